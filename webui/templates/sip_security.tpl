% rebase('base.tpl', title=_('sip.tab'))
% include('config_tabs.tpl')
% def span(seconds):
%   seconds = int(seconds)
%   return _('sip.minutes', n=seconds // 60) if seconds % 60 == 0 else _('sip.seconds', n=seconds)
% end
% def ended_by(by):
%   return _('sip.ended.' + by) if by in ('expired', 'trusted') else _('sip.ended.admin', name=by)
% end
<div class="page-head"><h1>{{_('sip.tab')}}</h1></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
<section class="card" id="sip-blocks">
  <h2>{{_('sip.blocked')}}</h2>
  <p class="muted">{{_('sip.policy', n=settings['max_failures'], window=span(settings['window_seconds']), block=span(settings['block_seconds']))}}</p>
  % if not blocks:
  <p class="empty">{{_('sip.none_blocked')}}</p>
  % else:
  <div class="table-wrap">
  <table class="list">
    <thead><tr><th>{{_('sip.address')}}</th><th>{{_('sip.blocked_at')}}</th><th>{{_('sip.why')}}</th>
      <th>{{_('sip.until')}}</th><th></th></tr></thead>
    <tbody>
    % for b in blocks:
      <tr data-address="{{b['address']}}">
        <td><strong>{{b['address']}}</strong></td>
        <td>{{when(b['blocked_at'], True)}}</td>
        % kinds = ('、' if lang == 'zh_CN' else ', ').join(_('sip.kind.' + k) for k in b['kinds'])
        <td>{{_('sip.failures', n=b['failures'])}}{{'（' + kinds + '）' if lang == 'zh_CN' else ' (' + kinds + ')'}}
          % if b['accounts']:
          <br><span class="small muted">{{_('sip.tried', list=', '.join(b['accounts']))}}</span>
          % end
        </td>
        <td>{{when(b['until'], True)}}</td>
        <td class="actions">
          <form method="post" action="/admin/sip-security/blocks/{{b['address']}}/unblock" class="inline">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button class="small" title="{{_('sip.unblock_title', address=b['address'])}}">{{_('sip.unblock')}}</button>
          </form>
        </td>
      </tr>
    % end
    </tbody>
  </table>
  </div>
  % end
</section>
<section class="card" id="sip-events">
  <h2>{{_('sip.events')}}</h2>
  % if not events:
  <p class="empty">{{_('sip.no_events')}}</p>
  % else:
  <div class="table-wrap">
  <table class="list">
    <thead><tr><th>{{_('sip.at')}}</th><th>{{_('sip.address')}}</th><th>{{_('sip.what')}}</th><th>{{_('sip.extension')}}</th></tr></thead>
    <tbody>
    % for e in events:
      <tr><td>{{when(e['at'], True)}}</td><td>{{e['address']}}</td><td>{{_('sip.kind.' + e['kind'])}}</td>
        <td>{{e['account'] or '—'}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
  % end
</section>
<section class="card" id="sip-settings">
  <h2>{{_('sip.settings')}}</h2>
  <form method="post" action="/admin/sip-security" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field {{'has-error' if 'phone_subnets' in errors else ''}}">
      <label for="phone_subnets">{{_('sip.phone_subnets')}}</label>
      <input id="phone_subnets" name="phone_subnets" value="{{values.get('phone_subnets', '')}}" autocomplete="off" aria-describedby="phone_subnets-help">
      <small id="phone_subnets-help" class="muted">{{_('sip.phone_subnets_help')}}</small>
      % if 'phone_subnets' in errors:
      <em class="field-error">{{field_error(errors['phone_subnets'])}}</em>
      % end
    </div>
    <div class="field {{'has-error' if 'trusted' in errors else ''}}">
      <label for="trusted">{{_('sip.trusted')}}</label>
      <input id="trusted" name="trusted" value="{{values.get('trusted', '')}}" autocomplete="off" aria-describedby="trusted-help">
      <small id="trusted-help" class="muted">{{_('sip.trusted_help')}}</small>
      % if 'trusted' in errors:
      <em class="field-error">{{field_error(errors['trusted'])}}</em>
      % end
    </div>
    <div class="actions"><button>{{_('admin.save')}}</button></div>
  </form>
  % if settings['lan_subnets']:
  <form method="post" action="/admin/sip-security" class="inline" id="use-lan">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="phone_subnets" value="{{', '.join(settings['lan_subnets'])}}">
    <input type="hidden" name="trusted" value="{{', '.join(settings['trusted'])}}">
    <span class="muted">{{_('sip.lan', subnet=', '.join(settings['lan_subnets']))}}</span>
    <button class="small">{{_('sip.use_lan')}}</button>
  </form>
  % end
</section>
% if ended:
<section class="card" id="sip-history">
  <h2>{{_('sip.history')}}</h2>
  <div class="table-wrap">
  <table class="list">
    <thead><tr><th>{{_('sip.address')}}</th><th>{{_('sip.blocked_at')}}</th><th>{{_('sip.why')}}</th>
      <th>{{_('sip.ended_at')}}</th><th>{{_('sip.ended_by')}}</th></tr></thead>
    <tbody>
    % for b in ended:
      <tr><td>{{b['address']}}</td><td>{{when(b['blocked_at'], True)}}</td><td>{{_('sip.failures', n=b['failures'])}}</td>
        <td>{{when(b['ended_at'], True)}}</td><td>{{ended_by(b['ended_by'])}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
% end
