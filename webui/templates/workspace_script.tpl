% # The call script panel of the workspace (webui/static/callscript.js, webui/areas/scripts.py)
% import json
<section class="card" id="script-panel" hidden aria-live="polite">
  <h2>{{_('scripts.panel')}} <span class="muted" id="sp-label"></span></h2>
  <p class="muted small" id="sp-customer"></p>
  <ol id="sp-path" class="history"></ol>
  <div id="sp-step">
    <p id="sp-text" class="script big"></p>
    <form id="sp-form" class="row">
      <label id="sp-question" hidden><span id="sp-field"></span> <span id="sp-input"></span></label>
      <button class="primary" id="sp-next">{{_('scripts.next')}}</button>
    </form>
  </div>
  <p id="sp-done" hidden>{{_('scripts.done')}}</p>
  <p class="status" id="sp-status" role="status" hidden></p>
</section>
<%
messages = ('scripts.answers_to', 'scripts.no_customer', 'scripts.saved', 'scripts.not_saved', 'scripts.next',
            'scripts.save_next', 'scripts.error.bad_answer', 'scripts.error.customers.changed',
            'scripts.error.scripts.out_of_step', 'scripts.error.scripts.not_on_call', 'scripts.error.scripts.no_script')
%>
<script id="scripts-i18n" type="application/json">{{!json.dumps({k: _(k) for k in messages}, ensure_ascii=False).replace('<', '\\u003c')}}</script>
<script src="/static/callscript.js"></script>
