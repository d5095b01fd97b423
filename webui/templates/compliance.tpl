% rebase('base.tpl', title=_('compliance.title'))
% include('config_tabs.tpl')
% def err(name):
%   if name in errors:
<em class="field-error">{{field_error(errors[name])}}</em>
%   end
% end
<div class="page-head"><h1>{{_('compliance.title')}}</h1></div>
<p class="muted">{{_('compliance.intro')}}</p>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
% if notice:
<p class="notice" role="status" id="dnc-notice">{{field_error(notice)}}</p>
% end
<section class="card" id="dnc">
  <h2>{{_('dnc.title')}}</h2>
  <p class="muted">{{_('dnc.help')}}</p>
  <form method="post" action="/admin/compliance/dnc" class="grid" id="dnc-add" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field {{'has-error' if 'number' in errors else ''}}">
      <label for="dnc-number">{{_('dnc.number')}}</label>
      <input id="dnc-number" name="number" value="{{values.get('number', '')}}" inputmode="tel" autocomplete="off" required>
      % err('number')
    </div>
    <div class="field {{'has-error' if 'reason' in errors else ''}}">
      <label for="dnc-reason">{{_('dnc.reason')}}</label>
      <input id="dnc-reason" name="reason" value="{{values.get('reason', '')}}" maxlength="128" autocomplete="off">
      % err('reason')
    </div>
    <div class="field {{'has-error' if 'expires_on' in errors or 'expires_at' in errors else ''}}">
      <label for="dnc-expires">{{_('dnc.expires_on')}}</label>
      <input id="dnc-expires" name="expires_on" type="date" value="{{values.get('expires_on', '')}}" aria-describedby="dnc-expires-help">
      <small id="dnc-expires-help" class="muted">{{_('dnc.expires_help')}}</small>
      % err('expires_on')
      % err('expires_at')
    </div>
    <div class="actions"><button class="primary">{{_('dnc.add')}}</button></div>
  </form>
  <form method="post" action="/admin/compliance/dnc/import" enctype="multipart/form-data" class="row" id="dnc-import">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="dnc-file">{{_('dnc.import')}}</label>
    <input id="dnc-file" name="file" type="file" accept=".xlsx">
    <button>{{_('dnc.import_button')}}</button>
    <small class="muted">{{_('dnc.import_help')}}</small>
    % err('file')
  </form>
  <form method="get" action="/admin/compliance" class="row" role="search">
    <label for="dnc-search" class="sr-only">{{_('dnc.search')}}</label>
    <input id="dnc-search" name="q" value="{{search}}" placeholder="{{_('dnc.search')}}">
    <button>{{_('dnc.search')}}</button>
    <a class="button small" id="dnc-export" href="/admin/compliance/dnc.xlsx">{{_('dnc.export')}}</a>
  </form>
  % if not dnc:
  <p class="empty">{{_('dnc.empty')}}</p>
  % else:
  <div class="table-wrap">
  <table class="list" id="dnc-list">
    <thead><tr><th>{{_('dnc.number')}}</th><th>{{_('dnc.reason')}}</th><th>{{_('dnc.added')}}</th>
      <th>{{_('dnc.expires_on')}}</th><th></th></tr></thead>
    <tbody>
    % for e in dnc:
      <tr data-number="{{e['number']}}">
        <td><strong translate="no">{{e['number']}}</strong></td>
        <td>{{e['reason'] or '—'}}</td>
        <td>{{when(e['created_at'])}} · {{e['added_by']}} · {{_('dnc.source.' + e['source'])}}</td>
        <td>{{when(e['expires_at']) if e['expires_at'] else _('dnc.forever')}}</td>
        <td class="actions">
          <form method="post" action="/admin/compliance/dnc/{{e['number']}}/delete" class="inline" data-confirm="{{_('dnc.confirm_remove', number=e['number'])}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button class="small">{{_('dnc.remove')}}</button>
          </form>
        </td>
      </tr>
    % end
    </tbody>
  </table>
  </div>
  % end
</section>
<section class="card" id="window">
  <h2>{{_('compliance.window')}}</h2>
  <p class="muted">{{_('compliance.window_help', timezone=settings['timezone'])}}</p>
  % if admin:
  <form method="post" action="/admin/compliance/settings" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field {{'has-error' if 'window' in errors else ''}}">
      <label for="window-text">{{_('compliance.window_hours')}}</label>
      <input id="window-text" name="window" value="{{values.get('window', settings['window'])}}" autocomplete="off" aria-describedby="window-help">
      <small id="window-help" class="muted">{{_('compliance.window_syntax')}}</small>
      % err('window')
    </div>
    <div class="field">
      <label><input type="checkbox" name="window_holidays" {{'checked' if values.get('window_holidays', settings['window_holidays']) else ''}}> {{_('compliance.window_holidays')}}</label>
    </div>
    <div class="field {{'has-error' if 'default_pool' in errors else ''}}">
      <label for="default-pool">{{_('callerid.default_pool')}}</label>
      <select id="default-pool" name="default_pool">
        <option value="">{{_('callerid.no_default')}}</option>
        % for p in settings['pools']:
        <option value="{{p}}" {{'selected' if p == settings['default_pool'] else ''}}>{{p}}</option>
        % end
      </select>
      % err('default_pool')
    </div>
    <div class="actions"><button>{{_('admin.save')}}</button></div>
  </form>
  % else:
  <p><strong>{{settings['window'] or _('compliance.any_hour')}}</strong>
    {{_('compliance.window_holidays') if settings['window'] and settings['window_holidays'] else ''}}</p>
  % end
  <p class="small muted">{{_('compliance.override_policy')}}</p>
</section>
% if admin:
<section class="card" id="pools">
  <h2>{{_('callerid.title')}}</h2>
  <p class="muted">{{_('callerid.help')}}</p>
  % if not usage:
  <p class="empty">{{_('callerid.empty')}}</p>
  % else:
  <div class="table-wrap">
  <table class="list" id="pool-list">
    <thead><tr><th>{{_('callerid.pool')}}</th><th>{{_('callerid.number')}}</th><th>{{_('callerid.per_hour')}}</th>
      <th>{{_('callerid.per_day')}}</th><th>{{_('callerid.used')}}</th><th></th></tr></thead>
    <tbody>
    % for pool, rows in usage.items():
    %   for r in rows:
      <tr><td translate="no">{{pool}}</td><td translate="no">{{r['number']}}</td>
        <td>{{r['per_hour'] or _('callerid.no_cap')}}</td><td>{{r['per_day'] or _('callerid.no_cap')}}</td>
        <td>{{_('callerid.used_counts', hour=r['used_hour'], day=r['used_day'])}}</td>
        <td class="actions">
          <form method="post" action="/admin/compliance/pools/{{pool}}/{{r['number']}}/delete" class="inline" data-confirm="{{_('callerid.confirm_remove', number=r['number'], pool=pool)}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button class="small">{{_('dnc.remove')}}</button>
          </form>
        </td></tr>
    %   end
    % end
    </tbody>
  </table>
  </div>
  % end
  <form method="post" action="/admin/compliance/pools" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % for name, label in (('pool', 'callerid.pool'), ('number', 'callerid.number'), ('per_hour', 'callerid.per_hour'), ('per_day', 'callerid.per_day')):
    <div class="field {{'has-error' if name in errors else ''}}">
      <label for="pool-{{name}}">{{_(label)}}</label>
      <input id="pool-{{name}}" name="{{name}}" value="{{values.get(name, '')}}" autocomplete="off" {{'inputmode=numeric' if name.startswith('per_') else ''}}>
      % err(name)
    </div>
    % end
    <div class="actions"><button>{{_('callerid.add')}}</button></div>
  </form>
</section>
% end
<section class="card" id="refusals">
  <h2>{{_('compliance.refusals')}}</h2>
  % include('call_refusals.tpl', refusals=refusals)
</section>
