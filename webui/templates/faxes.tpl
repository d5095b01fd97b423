% rebase('base.tpl', title=_('nav.faxes'))
<div class="page-head">
  <h1>{{_('nav.faxes')}}</h1><span class="muted">{{_('fax.count', n=len(items))}}</span>
</div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem.get('params'))}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
% if can_send:
<section class="card">
  <h2>{{_('fax.send.title')}}</h2>
  <form method="post" action="/faxes" enctype="multipart/form-data" class="grid" id="fax-send">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field">
      <label for="fax-number">{{_('fax.send.number')}} *</label>
      <input id="fax-number" name="number" value="{{number}}" maxlength="32" inputmode="tel" required>
    </div>
    <div class="field">
      <label for="fax-file">{{_('fax.send.file')}} *</label>
      <input id="fax-file" name="file" type="file" accept="application/pdf,.pdf" required>
      <small class="hint">{{_('fax.send.hint', mib=max_mib)}}</small>
    </div>
    <div class="buttons"><button class="primary">{{_('fax.send.button')}}</button></div>
  </form>
</section>
% end
<section class="card">
  <div class="table-wrap">
  <table class="list" id="faxes">
    <thead><tr><th>{{_('rec.when')}}</th><th>{{_('fax.direction')}}</th><th>{{_('fax.from')}}</th><th>{{_('fax.to')}}</th>
      <th class="num">{{_('fax.pages')}}</th><th>{{_('fax.state')}}</th><th></th></tr></thead>
    <tbody>
    % for f in items:
      % outbound = f['direction'] == 'outbound'
      <tr data-id="{{f['id']}}" class="fax-{{f['direction']}}">
        <td class="nowrap">{{when(f['created_at'])}}</td>
        <td>{{_('fax.direction.outbound') if outbound else _('fax.direction.inbound')}}</td>
        % if outbound:
        <td>{{f['created_by']}} <span class="muted small">{{f['source_name']}}</span></td>
        <td class="mono">{{f['destination']}}</td>
        % else:
        <td class="mono">{{f['caller']}} <span class="muted small">{{f['caller_name'] if f['caller_name'] != f['caller'] else ''}}</span></td>
        <td class="mono">{{f['did']}}</td>
        % end
        <td class="num">{{f['pages'] or '—'}}</td>
        <td><span class="flag fax-{{f['state']}}">{{_('fax.state.' + f['state'])}}</span>
        % if outbound and f['state'] != 'sent':
          <span class="small muted">{{_('fax.attempts', n=f['attempts'], of=f['max_attempts'])}}</span>
        % end
        % if f['error_code']:
          <span class="small muted">{{error_message(f['error_code'], 422)}}</span>
        % end
        </td>
        <td class="actions">
        % if f['state'] == 'received' or outbound:
          <a class="button small" href="/api/v1/faxes/{{f['id']}}/pdf" target="_blank">{{_('fax.open')}}</a>
          <a class="button small" href="/api/v1/faxes/{{f['id']}}/pdf?download=1" download>{{_('rec.download')}}</a>
        % end
        </td>
      </tr>
    % end
    % if not items:
      <tr class="empty"><td colspan="7">{{_('fax.none')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
