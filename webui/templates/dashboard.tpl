% rebase('base.tpl', title=_('nav.dashboard'))
% import json
<div class="page-head">
  <h1>{{_('nav.dashboard')}}</h1>
  <div class="health" id="health">
    % status = health.get('status', 'down')
    <span class="badge {{status}}" id="health-status">{{_('health.' + status) if status in ('ok', 'degraded', 'down') else status}}</span>
    % for name, c in (health.get('components') or {}).items():
    % if name == 'ha' and not c.get('enabled'):  # a box on its own: nothing to show
    %   continue
    % end
    <span class="pill {{'ok' if c.get('up') else 'bad'}}" data-component="{{name}}" title="{{label('component_state', str(c.get('state') or '').split(':')[0])}}">{{label('component', name)}}</span>
    % end
  </div>
</div>

% alarms = health.get('alarms') or []
% lines = ((health.get('components') or {}).get('hardware') or {}).get('details') or []
% if (alarms or lines) and user['role'] in ('admin', 'supervisor'):
<section class="alert" id="alarms" role="alert">
  <strong>{{_('alarms.title')}}</strong>
  % for p in lines:
  <div class="alarm hw-{{p.get('severity', '')}}" data-code="{{p.get('code', '')}}">
    <span>{{_('hw.' + p['code'], subject=p.get('subject', '')) if ('hw.' + str(p.get('code'))) in known else p.get('subject', '')}} <span class="small">{{p.get('message', '') if lang == 'en' or ('hw.' + str(p.get('code'))) not in known else ''}}</span></span>
  </div>
  % end
  % for a in alarms:
  <div class="alarm" data-service="{{a.get('service', '')}}">
    <span title="{{a.get('text', '') if lang == 'en' else ''}}">{{_('alarms.' + a['code'], service=_('service.' + a['service']) if ('service.' + str(a.get('service'))) in known else a.get('service', ''), **(a.get('params') or {})) if ('alarms.' + str(a.get('code'))) in known else a.get('text', '')}}</span>
    % if user['role'] == 'admin' and a.get('service'):
    <form method="post" action="/services/{{a['service']}}/restart" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button>{{_('alarms.restart')}}</button>
    </form>
    % end
  </div>
  % end
</section>
% end

% ha = (health.get('components') or {}).get('ha') or {}
% if ha.get('enabled') and user['role'] in ('admin', 'supervisor'):
<section class="card" id="ha-pair">
  <h2><a href="/admin/ha">{{_('ha.title')}}</a></h2>
  % include('ha_facts.tpl', ha=ha)
</section>
% end

<div class="tiles">
  <div class="tile {{'hot' if summary['waiting'] else ''}}" id="tile-waiting"><span class="figure">{{summary['waiting']}}</span><span class="label">{{_('live.tile_waiting')}}</span></div>
  <div class="tile {{'hot' if summary['longest_wait'] >= 60 else ''}}" id="tile-longest"><span class="figure">{{secs(summary['longest_wait'])}}</span><span class="label">{{_('live.tile_longest')}}</span></div>
  <div class="tile" id="tile-available"><span class="figure">{{summary['available']}}<small>/{{summary['signed_in']}}</small></span><span class="label">{{_('live.tile_available')}}</span></div>
  <div class="tile" id="tile-calls"><span class="figure">{{summary['calls']}}</span><span class="label">{{_('live.tile_calls')}}</span></div>
</div>

% if my_agents:
<section class="card me">
  <h2>{{_('live.my_position')}}</h2>
  % for a in my_agents:
  <div class="position">
    <span class="who-agent"><strong>{{a['number']}}</strong> {{a['name']}}</span>
    <span class="state {{'free' if a['logged_in'] else 'logged_out'}}">{{_('live.signed_in') if a['logged_in'] else _('live.signed_out')}}</span>
    <span class="muted small">{{', '.join(a.get('queues') or []) or _('live.no_queue_of_mine')}}</span>
    <form method="post" action="/agents/{{a['number']}}/{{'logout' if a['logged_in'] else 'login'}}" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="next" value="/">
      <button class="{{'' if a['logged_in'] else 'primary'}}">{{_('admin.sign_out') if a['logged_in'] else _('admin.sign_in')}}</button>
    </form>
  </div>
  % end
</section>
% end

<section class="card">
  <h2>{{_('live.queues')}}</h2>
  <table id="queues" class="list"><thead><tr>
    <th>{{_('live.queue')}}</th><th class="num">{{_('live.waiting')}}</th><th class="num">{{_('live.longest_wait')}}</th>
    <th class="num">{{_('live.available')}}</th><th>{{_('live.members')}}</th></tr></thead>
  <tbody>
  % for q in live['queues']:
    % members = q.get('members')
    % names = members if isinstance(members, list) else []
    % count = len(members) if isinstance(members, list) else members
    <tr data-queue="{{q.get('name', '')}}"><td><strong>{{q.get('name', '')}}</strong> <span class="muted">{{q.get('display_name') or ''}}</span></td>
      <td class="num {{'hot' if q.get('waiting') else ''}}">{{q.get('waiting', 0)}}</td>
      <td class="num">{{secs(q.get('longest_wait'))}}</td>
      <td class="num">{{q.get('available', '—')}} / {{'—' if count is None else count}}</td>
      <td class="muted">{{', '.join(str(n) for n in names)}}</td></tr>
  % end
  % if not live['queues']:
    <tr class="empty"><td colspan="5">{{_('live.no_queues')}}</td></tr>
  % end
  </tbody></table>
</section>

<section class="card">
  <h2>{{_('live.agents')}}</h2>
  <table id="agents" class="list"><thead><tr>
    <th>{{_('live.agent')}}</th><th>{{_('live.state')}}</th><th class="num">{{_('live.in_state')}}</th><th>{{_('live.queues_of_agent')}}</th></tr></thead>
  <tbody>
  % for a in live['agents']:
    % state = a.get('state') or 'unknown'
    <tr><td><strong>{{a.get('name', '')}}</strong> {{a.get('display_name') or ''}}</td>
      <td><span class="state {{state}}">{{_('agent_state.' + state) if state in agent_states else state}}</span></td>
      <td class="num">{{secs(a.get('in_state_seconds'))}}</td>
      <td class="muted">{{', '.join(a.get('queues') or [])}}</td></tr>
  % end
  % if not live['agents']:
    <tr class="empty"><td colspan="4">{{_('live.no_agents')}}</td></tr>
  % end
  </tbody></table>
</section>

<section class="card">
  <h2>{{_('live.calls')}}</h2>
  <table id="calls" class="list"><thead><tr>
    <th>{{_('live.caller')}}</th><th>{{_('live.did')}}</th><th>{{_('live.queue')}}</th><th>{{_('live.agent')}}</th>
    <th>{{_('live.state')}}</th><th class="num">{{_('live.wait')}}</th><th class="num">{{_('live.talk')}}</th><th class="num">{{_('live.duration')}}</th></tr></thead>
  <tbody>
  % for c in live['calls']:
    % waited, talked, total = call_times(c)
    % state = c.get('state') or 'unknown'
    <tr data-linkedid="{{c.get('linkedid', '')}}"><td class="caller"><strong>{{c.get('customer_name') or c.get('caller') or '—'}}</strong> <span class="muted">{{c.get('caller') if c.get('customer_name') else ''}}</span></td>
      <td>{{c.get('did') or '—'}}</td><td>{{c.get('queue') or '—'}}</td><td>{{c.get('agent') or '—'}}</td>
      <td><span class="call {{state}}">{{_('call_state.' + state) if ('call_state.' + state) in known else _('live.call_state_' + state) if ('live.call_state_' + state) in known else state}}</span></td>
      <td class="num">{{secs(waited)}}</td><td class="num">{{secs(talked)}}</td><td class="num">{{secs(total)}}</td></tr>
  % end
  % if not live['calls']:
    <tr class="empty"><td colspan="8">{{_('live.no_calls')}}</td></tr>
  % end
  </tbody></table>
</section>
<p class="refresh muted small" id="refresh">{{_('live.refreshing')}}</p>
<script id="i18n" type="application/json">{{!json.dumps(js_messages).replace('<', '\\u003c')}}</script>
<script src="/static/live.js"></script>
