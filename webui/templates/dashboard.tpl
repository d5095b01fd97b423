% rebase('base.tpl', title=_('nav.dashboard'))
% import json
<div class="health" id="health">
% for name, c in health['components'].items():
  <span class="pill {{'ok' if c.get('up') else 'bad'}}" data-component="{{name}}">{{_('component.' + name)}}: {{_('state.up') if c.get('up') else _('state.down')}}</span>
% end
</div>
<section class="card">
  <h2>{{_('live.queues')}}</h2>
  <table id="queues"><thead><tr><th>{{_('live.queue')}}</th><th>{{_('live.waiting')}}</th><th>{{_('live.longest_wait')}}</th><th>{{_('live.members')}}</th></tr></thead>
  <tbody>
  % for q in live['queues']:
    <tr><td>{{q['name']}}</td><td>{{q['waiting']}}</td><td>{{q['longest_wait']}} s</td><td>{{', '.join(q['members'])}}</td></tr>
  % end
  % if not live['queues']:
    <tr class="empty"><td colspan="4">{{_('live.no_queues')}}</td></tr>
  % end
  </tbody></table>
</section>
<section class="card">
  <h2>{{_('live.agents')}}</h2>
  <table id="agents"><thead><tr><th>{{_('live.agent')}}</th><th>{{_('live.state')}}</th><th>{{_('live.in_state')}}</th><th>{{_('live.queues_of_agent')}}</th></tr></thead>
  <tbody>
  % for a in live['agents']:
    <tr><td>{{a['name']}}</td><td><span class="state {{a['state']}}">{{_('agent_state.' + a['state'])}}</span></td><td>{{a['in_state_seconds']}} s</td><td>{{', '.join(a['queues'])}}</td></tr>
  % end
  % if not live['agents']:
    <tr class="empty"><td colspan="4">{{_('live.no_agents')}}</td></tr>
  % end
  </tbody></table>
</section>
<section class="card">
  <h2>{{_('live.calls')}}</h2>
  <table id="calls"><thead><tr><th>{{_('live.caller')}}</th><th>{{_('live.did')}}</th><th>{{_('live.queue')}}</th><th>{{_('live.agent')}}</th><th>{{_('live.state')}}</th><th>{{_('live.duration')}}</th></tr></thead>
  <tbody>
  % for c in live['calls']:
    <tr><td>{{c['caller']}} {{c.get('caller_name') or ''}}</td><td>{{c['did']}}</td><td>{{c['queue']}}</td><td>{{c['agent']}}</td><td>{{_('call_state.' + c['state'])}}</td><td>{{c['duration']}} s</td></tr>
  % end
  % if not live['calls']:
    <tr class="empty"><td colspan="6">{{_('live.no_calls')}}</td></tr>
  % end
  </tbody></table>
</section>
<script id="i18n" type="application/json">{{!json.dumps(js_messages).replace('<', '\\u003c')}}</script>
<script src="/static/live.js"></script>
