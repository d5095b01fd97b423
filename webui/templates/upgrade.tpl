% rebase('base.tpl', title=_('upgrade.title'))
% import json
% include('config_tabs.tpl')
<div class="page-head"><h1>{{_('upgrade.title')}}</h1></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}}</p>
% end
% if refused:
<p class="alert" role="alert" id="upgrade-refused">{{field_error(refused)}}</p>
% end
% up = status['upgrade']
<section class="card" id="upgrade-now">
  <h2>{{_('upgrade.running')}}</h2>
  <p><span id="upgrade-version">{{_('upgrade.development') if status['running']['version'] == 'development' else status['running']['version']}}</span>
  % if status['running']['slot']:
  · {{_('upgrade.slot', slot=status['running']['slot'])}}
  % else:
  · <span class="muted">{{_('upgrade.no_slots')}}</span>
  % end
  </p>
  <p class="small muted">{{_('upgrade.what_survives')}}</p>
</section>
% if restarting or up['state'] == 'restarting':
<p class="notice" role="status" id="upgrade-restarting">{{_('upgrade.restarting')}}</p>
% elif up['state'] == 'writing':
<p class="notice" role="status" id="upgrade-writing">{{_('upgrade.writing', done=up.get('done', 0) // 1048576, total=up.get('total', 0) // 1048576)}}</p>
% elif up['state'] == 'failed':
<p class="alert" role="alert" id="upgrade-failed">{{_('upgrade.failed')}} {{_(up['msgid'], **(up.get('params') or {}))}}</p>
% elif up['state'] == 'ready':
<section class="card" id="upgrade-ready">
  <h2>{{_('upgrade.ready', version=up['version'], slot=up['slot'].upper())}}</h2>
  <p>{{_('upgrade.restart_help')}}</p>
  <form method="post" action="/admin/upgrade/restart">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label><input type="checkbox" name="confirm" value="yes" id="upgrade-confirm"> {{_('upgrade.confirm_box')}}</label>
    <div class="actions"><button class="danger" id="upgrade-restart">{{_('upgrade.restart')}}</button></div>
  </form>
</section>
% end
% if up['state'] != 'writing' and not restarting:
<section class="card" id="upgrade-upload">
  <h2>{{_('upgrade.upload')}}</h2>
  <p class="small muted">{{_('upgrade.upload_help', limit=limit_mib)}}</p>
  <form id="upgrade-form" data-csrf="{{csrf}}" data-sending="{{_('upgrade.sending')}}" data-limit="{{limit_mib * 1048576}}" data-too-big="{{_('upgrade.too_large', limit=limit_mib)}}">
    <input type="file" id="upgrade-file" name="bundle" accept=".upgrade" required>
    <div class="actions"><button id="upgrade-send">{{_('upgrade.send')}}</button></div>
    <p id="upgrade-message" role="status" aria-live="polite"></p>
  </form>
</section>
<script id="upgrade-i18n" type="application/json">{{!json.dumps({k: _(k) for k in messages}, ensure_ascii=False).replace('<', '\\u003c')}}</script>
<script src="/static/upgrade.js"></script>
% end
