% rebase('base.tpl', title=_('calls.one'))
<div class="page-head">
  <h1>{{_('calls.one')}}</h1><span class="muted">{{call['linkedid']}}</span>
  <a class="button" href="/calls">{{_('calls.back')}}</a>
</div>
<div class="columns">
<section class="card">
  <dl class="facts">
    <dt>{{_('calls.col.enter_time')}}</dt><dd>{{when(call['enter_time'], True)}}</dd>
    <dt>{{_('calls.col.direction')}}</dt><dd>{{label('direction', call['direction'])}}</dd>
    <dt>{{_('calls.col.caller')}}</dt><dd>
    % include('phone.tpl', number=call['caller'])
      {{call['caller_name']}}
      % if call['customer']:
      · <a href="/customers/{{call['customer']['id']}}">{{call['customer']['name']}}</a>
      % end
    </dd>
    <dt>{{_('calls.col.did')}}</dt><dd>{{call['did'] or '—'}} <span class="muted">{{trunk_names.get(call['trunk'], call['trunk']) if call['trunk'] else ''}}</span></dd>
    <dt>{{_('calls.col.queue')}}</dt><dd>{{queue_names.get(call['queue'], call['queue']) if call['queue'] else '—'}} <span class="muted">{{label('route_rule', call['route_rule'])}}</span></dd>
    <dt>{{_('calls.col.agent')}}</dt><dd>{{call['agent'] or '—'}}</dd>
    <dt>{{_('calls.col.disposition')}}</dt><dd>{{label('disposition', call['disposition'])}} <span class="muted">{{label('fallback_reason', call['fallback_reason'])}}</span></dd>
    <dt>{{_('calls.col.wait_seconds')}}</dt><dd>{{secs(call['wait_seconds'])}}</dd>
    <dt>{{_('calls.col.talk_seconds')}}</dt><dd>{{secs(call['talk_seconds'])}}</dd>
    % if 'cost_fen' in call and (call['cost_fen'] is not None or call['destination_class']):
    <dt>{{_('billing.cost')}}</dt><dd id="call-cost">{{yuan(call['cost_fen']) if call['cost_fen'] is not None else _('billing.col.unrated')}}
      <span class="muted">{{_('rates.class.' + call['destination_class']) if 'rates.class.' + call['destination_class'] in known else ''}} {{call['rate_plan']}}</span></dd>
    % end
  </dl>
</section>
<section class="card">
  <h2>{{_('calls.col.recording')}}</h2>
  % if call['recording'] == 'complete':
  <audio controls preload="metadata" src="/api/v1/recordings/{{call['linkedid']}}/audio" id="player"></audio>
  <p><a href="/api/v1/recordings/{{call['linkedid']}}/audio?download=1">{{_('calls.download')}}</a></p>
  % elif call['recording']:
  <p class="muted">{{_('calls.recording.' + call['recording'])}}</p>
  % else:
  <p class="muted">{{_('calls.not_recorded')}}</p>
  % end
  <h2>{{_('calls.col.outcome')}}</h2>
  % for o in call['outcomes']:
  <p><strong>{{outcome_names.get(o['disposition'], o['disposition'])}}</strong>
     <span class="muted">{{o['agent']}} · {{o['saved_by']}} · {{when(o['saved_at'])}}</span><br>{{o['note']}}</p>
  % end
  % if not call['outcomes']:
  <p class="muted">{{_('calls.no_outcome')}}</p>
  % end
  <p><a href="/scripts/calls/{{call['linkedid']}}" id="call-script-runs">{{_('scripts.runs_title')}}</a></p>
</section>
</div>
% include('dial_script.tpl')
