% rebase('base.tpl', title=_('nav.wallboard'))
<link rel="stylesheet" href="/static/wallboard.css">
<div class="wallboard{{' tv' if tv else ''}}" id="wallboard" data-csrf="{{csrf}}">
<div class="page-head">
  <h1>{{_('nav.wallboard')}}</h1>
  <span class="muted" id="wb-day"></span>
  <span class="link-state" id="wb-link" data-state="connecting">{{_('wallboard.connecting')}}</span>
  % if not tv:
  <button type="button" id="wb-phone" class="small" title="{{_('wallboard.phone_hint')}}">{{_('wallboard.my_phone_unset')}}</button>
  <a id="wb-kiosk" class="button small" href="/wallboard?tv=1" title="{{_('wallboard.tv_hint')}}">{{_('wallboard.full_screen')}}</a>
  % end
</div>

<div class="tiles wb-tiles">
  <div class="tile" id="wb-waiting"><span class="figure">—</span><span class="label">{{_('wallboard.tile_waiting')}}</span></div>
  <div class="tile" id="wb-longest"><span class="figure">—</span><span class="label">{{_('wallboard.tile_longest')}}</span></div>
  <div class="tile" id="wb-answered"><span class="figure">—</span><span class="label">{{_('wallboard.tile_answered')}}</span></div>
  <div class="tile" id="wb-abandoned"><span class="figure">—</span><span class="label">{{_('wallboard.tile_abandoned')}}</span></div>
  <div class="tile" id="wb-no-agent" title="{{_('wallboard.no_agent_hint')}}"><span class="figure">—</span><span class="label">{{_('wallboard.tile_no_agent')}}</span></div>
  <div class="tile" id="wb-sl"><span class="figure">—</span><span class="label">{{_('wallboard.tile_service_level')}}</span></div>
  <div class="tile" id="wb-agents"><span class="figure">—</span><span class="label">{{_('wallboard.tile_available')}}</span></div>
</div>

<section class="card">
  <h2>{{_('live.queues')}}</h2>
  <div class="table-wrap">
  <table id="wb-queues" class="list"><thead><tr>
    <th>{{_('live.queue')}}</th><th class="num">{{_('live.waiting')}}</th><th class="num">{{_('live.longest_wait')}}</th>
    <th class="num">{{_('live.available')}}</th><th class="num">{{_('wallboard.offered')}}</th>
    <th class="num">{{_('wallboard.answered')}}</th><th class="num">{{_('wallboard.abandoned')}}</th>
    <th class="num" title="{{_('wallboard.no_agent_hint')}}">{{_('wallboard.no_agent')}}</th>
    <th class="num">{{_('wallboard.service_level')}}</th><th class="num">{{_('wallboard.average_answer')}}</th></tr></thead>
  <tbody><tr class="empty"><td colspan="10">{{_('wallboard.loading')}}</td></tr></tbody></table>
  </div>
</section>

<section class="card">
  <h2>{{_('live.agents')}} <span class="muted small" id="wb-agent-count"></span></h2>
  <div class="agent-grid" id="wb-agents-grid"><p class="muted">{{_('wallboard.loading')}}</p></div>
</section>

<div class="wb-columns">
<section class="card">
  <h2>{{_('live.calls')}}</h2>
  <div class="table-wrap">
  <table id="wb-calls" class="list"><thead><tr>
    <th>{{_('live.caller')}}</th><th>{{_('live.queue')}}</th><th>{{_('live.agent')}}</th><th>{{_('live.state')}}</th>
    <th class="num">{{_('live.wait')}}</th><th class="num">{{_('live.talk')}}</th><th class="num">{{_('live.duration')}}</th>{{!'' if tv else '<th></th>'}}</tr></thead>
  <tbody><tr class="empty"><td colspan="{{7 if tv else 8}}">{{_('wallboard.loading')}}</td></tr></tbody></table>
  </div>
</section>
<section class="card">
  <h2>{{_('wallboard.trunks')}}</h2>
  <div id="wb-trunks"><p class="muted">{{_('wallboard.loading')}}</p></div>
</section>
</div>
<p class="muted small wb-definitions">{{_('wallboard.definitions')}}</p>
</div>

% if not tv:

<dialog id="wb-phone-dialog">
  <form method="dialog" class="dialog-form">
    <h2>{{_('wallboard.phone_title')}}</h2>
    <p class="muted small">{{_('wallboard.phone_hint')}}</p>
    <div class="field"><label for="wb-phone-input">{{_('wallboard.phone_label')}}</label>
      <input id="wb-phone-input" name="phone" inputmode="numeric" maxlength="16" autocomplete="off">
      <em class="field-error" id="wb-phone-error" hidden>{{_('wallboard.phone_bad')}}</em></div>
    <div class="buttons"><button value="cancel" type="button" data-close>{{_('wallboard.cancel')}}</button>
      <button value="ok" class="primary" id="wb-phone-save">{{_('wallboard.save')}}</button></div>
  </form>
</dialog>

<dialog id="wb-pause-dialog">
  <form method="dialog" class="dialog-form">
    <h2 id="wb-pause-title"></h2>
    <div class="field"><label for="wb-pause-reason">{{_('wallboard.pause_reason')}}</label>
      <select id="wb-pause-reason" name="reason"></select></div>
    <div class="buttons"><button value="cancel" type="button" data-close>{{_('wallboard.cancel')}}</button>
      <button value="ok" class="primary" id="wb-pause-ok">{{_('wallboard.pause')}}</button></div>
  </form>
</dialog>

% end
<p class="status" id="wb-status" role="status" hidden></p>
<script id="wb-data" type="application/json">{{!data}}</script>
<script id="i18n" type="application/json">{{!messages}}</script>
<script src="/static/wallboard.js"></script>
