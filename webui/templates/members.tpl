% rebase('base.tpl', title=_('admin.members_of', queue=queue['name']))
% can_edit = user['role'] == 'admin'
% include('config_tabs.tpl')
<p class="crumbs"><a href="/admin/queues">{{_('kind.queues')}}</a> › {{queue['name']}}</p>
<div class="page-head"><h1>{{_('admin.members_of', queue=queue['name'])}}</h1><span class="muted">{{queue.get('display_name') or ''}}</span></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
<section class="card">
  <table class="list">
    <thead><tr><th>{{_('live.agent')}}</th><th class="num">{{_('admin.penalty')}}</th><th></th></tr></thead>
    <tbody>
    % for m in members:
      % who = (m['agent'] + ' ' + names[m['agent']]) if names.get(m['agent']) else m['agent']
      <tr><td><strong>{{m['agent']}}</strong> {{names.get(m['agent'], '')}}</td><td class="num">{{m['penalty']}}</td>
      <td class="actions">
      % if can_edit:
        <form method="post" action="/admin/queues/{{queue['name']}}/members/{{m['agent']}}/delete" class="inline"
              data-confirm="{{_('agents.member.confirm_remove', agent=who, queue=queue.get('display_name') or queue['name'])}}">
          <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('admin.remove')}}</button>
        </form>
      % end
      </td></tr>
    % end
    % if not members:
      <tr class="empty"><td colspan="3">{{_('admin.no_members')}}</td></tr>
    % end
    </tbody>
  </table>
  % if can_edit and candidates:
  <form method="post" action="/admin/queues/{{queue['name']}}/members" class="row">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field"><label for="m-agent">{{_('live.agent')}}</label>
      <select id="m-agent" name="agent">
      % for a in candidates:
        <option value="{{a['number']}}">{{a['number']}} {{a['name']}}</option>
      % end
      </select></div>
    <div class="field"><label for="m-penalty">{{_('admin.penalty')}}</label>
      <input id="m-penalty" type="number" name="penalty" value="0" min="0" max="100"></div>
    <button class="primary">{{_('admin.add_member')}}</button>
  </form>
  <p class="hint">{{_('admin.penalty_help')}}</p>
  % elif can_edit:
  <p class="muted">{{_('admin.no_candidates')}} <a href="/admin/agents">{{_('admin.add_agents')}}</a></p>
  % end
</section>
