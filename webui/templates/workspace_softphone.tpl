% # The softphone in the agent's browser (webui/static/softphone.js, webui/areas/softphone.py):
% # shown when the agent's phone is a browser phone. It rings and answers here; hold, transfer
% # and hang-up are the toolbar's, as with a desk phone.
% import json
<section class="card" id="softphone" data-state="starting" aria-live="polite">
  <h2>{{_('softphone.title')}}</h2>
  <div class="row">
    <span class="flag no" id="sp-line">{{_('softphone.starting')}}</span>
    <strong class="big" id="sp-caller"></strong>
    <button type="button" class="primary" id="sp-answer" hidden>{{_('softphone.answer')}}</button>
    <button type="button" class="danger" id="sp-hangup" hidden>{{_('softphone.hangup')}}</button>
  </div>
  <p class="hint">{{_('softphone.hint')}}</p>
  <p class="softphone-problem" id="sp-problem" role="alert" hidden></p>
  <audio id="sp-audio" autoplay></audio>
</section>
<%
messages = ('softphone.starting', 'softphone.registered', 'softphone.unregistered', 'softphone.ringing',
            'softphone.talking', 'softphone.mic_refused', 'softphone.no_mic', 'softphone.insecure',
            'softphone.connect_failed', 'softphone.error.not_a_browser_phone', 'softphone.error.off')
%>
<script id="softphone-i18n" type="application/json">{{!json.dumps({k: _(k) for k in messages}, ensure_ascii=False).replace('<', '\\u003c')}}</script>
<script type="module" src="/static/softphone.js"></script>
