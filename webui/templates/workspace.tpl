% rebase('base.tpl', title=_('nav.workspace'))
% import json
<div class="page-head">
  <h1>{{_('nav.workspace')}}</h1>
  % if len(agents) > 1:
  <form method="get" action="/workspace" class="inline">
    <label>{{_('ws.acting_as')}}
      <select name="agent" id="ws-agent-pick">
      % for a in agents:
        <option value="{{a['number']}}" {{'selected' if agent and a['number'] == agent['number'] else ''}}>{{a['number']}} {{a['name']}}</option>
      % end
      </select></label>
    <button class="small">{{_('ws.switch')}}</button>
  </form>
  % end
</div>

% if not agent:
<p class="notice">{{_('ws.no_agent')}}</p>
% else:
<div id="ws" data-agent="{{agent['number']}}" data-csrf="{{csrf}}" data-user="{{user['username']}}" data-tz="{{office_tz()}}">

<section class="card toolbar" aria-label="{{_('ws.toolbar')}}">
  <div class="row">
    <strong class="who-agent">{{agent['number']}} {{agent['name']}}</strong>
    <span class="flag no" id="ws-signed">{{_('workspace.signed_out')}}</span>
    <span class="state logged_out" id="ws-state">{{_('agent_state.logged_out')}}</span>
    <span class="muted" id="ws-since"></span>
    <span class="hot" id="ws-wrapup" hidden></span>
  </div>
  <div class="row">
    <button data-act="login" class="primary">{{_('ws.sign_in')}}</button>
    <button data-act="login-long">{{_('ws.sign_in_shift')}}</button>
    <button data-act="logout" disabled>{{_('admin.sign_out')}}</button>
    <select id="ws-reason" aria-label="{{_('ws.pause_reason')}}" disabled>
    % for r in pause_reasons:
      <option value="{{r['code']}}">{{r['name']}}</option>
    % end
    </select>
    <button data-act="pause" disabled>{{_('ws.pause')}}</button>
    <button data-act="unpause" disabled>{{_('ws.available')}}</button>
  </div>
  <div class="row">
    <input id="ws-number" type="tel" maxlength="40" placeholder="{{_('ws.number')}}" aria-label="{{_('ws.number')}}">
    <button data-act="dial" class="primary">{{_('ws.dial')}}</button>
    <span class="muted small" id="ws-answer-hint" hidden>{{_('ws.answer_on_phone')}}</span>
  </div>
  <div class="row">
    <button data-act="hold" disabled aria-keyshortcuts="Alt+Shift+O" title="Alt+Shift+O">{{_('ws.hold')}}</button>
    <button data-act="unhold" disabled aria-keyshortcuts="Alt+Shift+O" title="Alt+Shift+O">{{_('ws.unhold')}}</button>
    <select id="ws-to-kind" aria-label="{{_('ws.to_kind')}}" disabled>
      <option value="queue">{{_('ws.to_queue')}}</option>
      <option value="agent">{{_('ws.to_agent')}}</option>
      <option value="number">{{_('ws.to_number')}}</option>
    </select>
    <input id="ws-to" list="ws-queues" maxlength="40" placeholder="{{_('ws.to')}}" aria-label="{{_('ws.to')}}" disabled>
    <datalist id="ws-queues">
    % for q in queues:
      <option value="{{q}}">
    % end
    </datalist>
    <button data-act="transfer" disabled aria-keyshortcuts="Alt+Shift+T" title="Alt+Shift+T">{{_('ws.transfer')}}</button>
    <button data-act="consult" disabled>{{_('ws.consult')}}</button>
    <button data-act="consult/complete" disabled>{{_('ws.complete')}}</button>
    <button data-act="consult/cancel" disabled>{{_('ws.cancel_consult')}}</button>
    <button data-act="conference" disabled>{{_('ws.conference')}}</button>
    <button data-act="hangup" class="danger" disabled aria-keyshortcuts="Alt+Shift+H" title="Alt+Shift+H">{{_('ws.hangup')}}</button>
  </div>
  <p class="hint" id="ws-keys">{{_('workspace.hotkeys')}}</p>
  <p class="status" id="ws-status" role="status" hidden></p>
</section>

<section class="card" id="campaign-panel" hidden aria-live="polite">
  <h2>{{_('campaigns.panel')}} <span class="muted" id="cp-campaign"></span></h2>
  <p class="muted" id="cp-empty" hidden>{{_('campaigns.panel_empty')}}</p>
  <p id="cp-waiting" hidden><button class="primary" id="cp-next">{{_('campaigns.next')}}</button></p>
  <div id="cp-body" hidden>
    <p class="pop-head"><strong class="big" id="cp-number"></strong> <span id="cp-name"></span>
      <a id="cp-customer" href="#" hidden>{{_('campaigns.customer_record')}}</a>
      <span id="cp-callback" hidden><span class="pill">{{_('campaigns.callback_due')}}</span></span>
      <span class="state" id="cp-result"></span></p>
    <dl id="cp-data" class="small"></dl>
    <div class="row">
      <button class="primary" id="cp-dial">{{_('campaigns.dial')}}</button>
      <input id="cp-reason" maxlength="200" placeholder="{{_('campaigns.skip_reason')}}" aria-label="{{_('campaigns.skip_reason')}}">
      <button id="cp-skip">{{_('campaigns.skip')}}</button>
      <input id="cp-at" type="datetime-local" aria-label="{{_('campaigns.callback_at')}}">
      <button id="cp-later">{{_('campaigns.callback')}}</button>
    </div>
    <p class="hint" id="cp-after">{{_('campaigns.after_call')}}</p>
    <h3>{{_('campaigns.script')}}</h3>
    <div id="cp-script" class="script"></div>
  </div>
  <p class="status" id="cp-status" role="status" hidden></p>
</section>

% if softphone:
% include('workspace_softphone.tpl')
% end
% include('workspace_script.tpl')

<div class="columns">
<section class="card" id="pop" aria-live="polite">
  <h2>{{_('ws.pop')}}</h2>
  <p class="muted" id="pop-empty">{{_('ws.pop_empty')}}</p>
  <div id="pop-body" hidden>
    <p class="pop-head"><strong class="big" id="pop-number"></strong> <span id="pop-origin" class="muted"></span>
       <span id="pop-call-state" class="state"></span></p>
    <p><a id="pop-customer" href="#"></a> <span id="pop-category" class="pill"></span> <a id="pop-new-order" class="button small" href="/orders" hidden>{{_('orders.new')}}</a> <span id="pop-tags" class="muted"></span>
       <span id="pop-unknown" hidden><span class="muted">{{_('ws.not_a_customer')}}</span>
         <a id="pop-new-customer" class="button small" href="/customers/new">{{_('crm.pop_new_customer')}}</a></span>
       <a id="pop-workorder" class="button small" href="/workorders/new">{{_('wo.new')}}</a></p>
    <p class="pop-dnc"><button type="button" id="pop-dnc" class="small">{{_('dnc.pop_add')}}</button> <span id="pop-dnc-status" class="status" role="status" hidden></span></p>
    <h3>{{_('ws.last_contacts')}}</h3>
    <ul id="pop-history" class="history"></ul>
    <form id="outcome" class="stack">
      <label>{{_('ws.disposition')}}
        <select name="disposition" required aria-keyshortcuts="Alt+Shift+D">
          <option value="">—</option>
        % for d in dispositions:
          <option value="{{d['code']}}">{{d['label']}}</option>
        % end
        </select></label>
      <label>{{_('ws.note')}} <textarea name="note" rows="3" maxlength="4000"></textarea></label>
      <button class="primary">{{_('ws.save_outcome')}}</button>
      <span class="status" id="outcome-status" hidden></span>
    </form>
  </div>
</section>

<div>
<section class="card kb-panel" id="kb-panel" aria-label="{{_('kb.panel')}}">
  <h2>{{_('kb.panel')}}</h2>
  <form id="kbp-form" class="row" role="search">
    <input type="search" id="kbp-q" maxlength="100" placeholder="{{_('kb.search_placeholder')}}" aria-label="{{_('kb.search')}}">
    <button>{{_('kb.search')}}</button>
  </form>
  <div id="kbp-list-box">
    <h3 id="kbp-heading" class="small muted">{{_('kb.panel_suggested')}}</h3>
    <ul id="kbp-list" class="kb-results"><li class="muted">{{_('kb.panel_no_call')}}</li></ul>
  </div>
  <article id="kbp-view" hidden>
    <p><button type="button" id="kbp-back" class="small">‹ {{_('kb.back')}}</button>
       <a id="kbp-open" class="small" href="/kb" target="_blank" rel="noopener">{{_('kb.open_page')}}</a></p>
    <h3 id="kbp-title"></h3>
    <div id="kbp-body" class="kb-body"></div>
    <ul id="kbp-files"></ul>
  </article>
  <p class="status" id="kbp-status" role="status" hidden></p>
</section>

<section class="card" id="missed">
  <h2>{{_('ws.missed')}}</h2>
  <table class="list"><thead><tr><th>{{_('ws.number')}}</th><th>{{_('ws.customer')}}</th><th>{{_('ws.when')}}</th>
    <th class="num">{{_('ws.tries')}}</th><th></th></tr></thead>
  <tbody><tr class="empty"><td colspan="5">{{_('ws.loading')}}</td></tr></tbody></table>
</section>

<section class="card" id="messages">
  <h2>{{_('ws.messages')}}</h2>
  <ul id="message-list" class="messages"></ul>
  <form id="message-form" class="row">
    <select name="to" aria-label="{{_('ws.to_user')}}" required>
    % for r in recipients:
      <option value="{{r['username']}}">{{r['username']}} ({{_('role.' + r['role'])}})</option>
    % end
    </select>
    <input name="body" maxlength="1000" required placeholder="{{_('ws.message')}}" aria-label="{{_('ws.message')}}">
    <button>{{_('ws.send')}}</button>
  </form>
</section>
</div>
</div>
</div>
<script id="i18n" type="application/json">{{!json.dumps(js_messages).replace('<', '\\u003c')}}</script>
<script id="ws-reasons" type="application/json">{{!json.dumps(reason_names).replace('<', '\\u003c')}}</script>
<script src="/static/kb.js"></script>
<script src="/static/workspace.js"></script>
<script src="/static/campaign.js"></script>
% end
