% rebase('base.tpl', title=_('admin.members_of', queue=queue))
<section class="card">
  <h1>{{_('admin.members_of', queue=queue)}}</h1>
  % if error:
  <p class="alert">{{error}}</p>
  % end
  <table class="list">
    <thead><tr><th>{{_('live.agent')}}</th><th>{{_('admin.penalty')}}</th><th></th></tr></thead>
    <tbody>
    % for m in members:
      <tr><td>{{m['agent']}}</td><td>{{m['penalty']}}</td>
      <td class="actions">
      % if user['role'] == 'admin':
        <form method="post" action="/admin/queues/{{queue}}/members/{{m['agent']}}/delete" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('admin.remove')}}</button>
        </form>
      % end
      </td></tr>
    % end
    % if not members:
      <tr class="empty"><td colspan="3">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  % if user['role'] == 'admin':
  <form method="post" action="/admin/queues/{{queue}}/members" class="row">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <select name="agent">
    % for a in agents:
      <option value="{{a['number']}}">{{a['number']}} {{a['name']}}</option>
    % end
    </select>
    <input type="number" name="penalty" value="0" min="0" max="100" title="{{_('admin.penalty')}}">
    <button class="primary">{{_('admin.add_member')}}</button>
  </form>
  % end
  <p><a href="/admin/queues">← {{_('kind.queues')}}</a></p>
</section>
