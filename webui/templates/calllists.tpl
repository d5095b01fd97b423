% rebase('base.tpl', title=_('calllists.title'))
<p class="crumbs"><a href="/campaigns">{{_('campaigns.title')}}</a> › {{_('calllists.title')}}</p>
<div class="page-head"><h1>{{_('calllists.title')}}</h1><span class="muted">{{_('admin.count', n=len(rows))}}</span></div>
<p class="muted">{{_('calllists.intro')}}</p>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem.get('params'))}} <span class="small">{{_('error.detail')}}: {{field_error(problem['detail'])}}</span></p>
% end
<section class="card">
  <div class="table-wrap">
  <table class="list" id="calllists">
    <thead><tr><th>{{_('calllists.name')}}</th><th>{{_('calllists.team')}}</th><th class="num">{{_('calllists.entries')}}</th>
      <th class="num">{{_('calllists.pending')}}</th><th class="num">{{_('calllists.done')}}</th><th>{{_('calllists.state')}}</th></tr></thead>
    <tbody>
    % for r in rows:
      <tr data-id="{{r['id']}}"><td><a href="/calllists/{{r['id']}}">{{r['display_name']}}</a> <code class="small">{{r['name']}}</code></td>
        <td>{{r['owner_queue']}} {{', '.join(r['owner_agents'])}}</td>
        <td class="num">{{r['entries']}}</td><td class="num">{{r['by_state'].get('pending', 0)}}</td>
        <td class="num">{{r['by_state'].get('done', 0)}}</td>
        <td><span class="flag {{'yes' if r['state'] == 'active' else 'no'}}">{{_('calllists.state.' + r['state'])}}</span></td></tr>
    % end
    % if not rows:
      <tr class="empty"><td colspan="6">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
<section class="card">
  <h2>{{_('calllists.add')}}</h2>
  <form method="post" action="/calllists" class="grid" id="calllist-add">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field {{'has-error' if 'name' in errors else ''}}"><label for="l-name">{{_('calllists.key')}} *</label>
      <input id="l-name" name="name" maxlength="32" required pattern="[a-z0-9][a-z0-9_\-]{0,31}" value="{{values.get('name', '')}}">
      % if 'name' in errors:
      <em class="field-error">{{field_error(errors['name'])}}</em>
      % else:
      <small class="hint">{{_('calllists.key_hint')}}</small>
      % end
    </div>
    <div class="field"><label for="l-display">{{_('calllists.display_name')}}</label>
      <input id="l-display" name="display_name" maxlength="64" value="{{values.get('display_name', '')}}"></div>
    <div class="field"><label for="l-queue">{{_('calllists.team')}}</label>
      <select id="l-queue" name="owner_queue"><option value="">—</option>
      % for q in queues:
        <option value="{{q['name']}}" {{'selected' if values.get('owner_queue') == q['name'] else ''}}>{{q.get('display_name') or q['name']}}</option>
      % end
      </select></div>
    <div class="field {{'has-error' if 'agents' in errors else ''}}"><label for="l-agents">{{_('calllists.owner_agents')}}</label>
      <input id="l-agents" name="owner_agents" maxlength="500" value="{{values.get('owner_agents', '')}}">
      % if 'agents' in errors:
      <em class="field-error">{{field_error(errors['agents'])}}</em>
      % else:
      <small class="hint">{{_('calllists.agents_hint')}}</small>
      % end
    </div>
    <div class="buttons"><button class="primary">{{_('admin.create')}}</button></div>
  </form>
</section>
