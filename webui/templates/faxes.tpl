% rebase('base.tpl', title=_('nav.faxes'))
<div class="page-head">
  <h1>{{_('nav.faxes')}}</h1><span class="muted">{{_('fax.count', n=len(items))}}</span>
</div>
<section class="card">
  <div class="table-wrap">
  <table class="list" id="faxes">
    <thead><tr><th>{{_('rec.when_utc')}}</th><th>{{_('fax.from')}}</th><th>{{_('fax.to')}}</th>
      <th class="num">{{_('fax.pages')}}</th><th>{{_('fax.state')}}</th><th></th></tr></thead>
    <tbody>
    % for f in items:
      <tr data-id="{{f['id']}}">
        <td class="nowrap">{{str(f['created_at'])[:16]}}</td>
        <td class="mono">{{f['caller']}} <span class="muted small">{{f['caller_name'] if f['caller_name'] != f['caller'] else ''}}</span></td>
        <td class="mono">{{f['did']}}</td>
        <td class="num">{{f['pages'] or '—'}}</td>
        <td><span class="flag fax-{{f['state']}}">{{_('fax.state.' + f['state'])}}</span>
        % if f['error_code']:
          <span class="small muted">{{error_message(f['error_code'], 422)}}</span>
        % end
        </td>
        <td class="actions">
        % if f['state'] == 'received':
          <a class="button small" href="/api/v1/faxes/{{f['id']}}/pdf" target="_blank">{{_('fax.open')}}</a>
          <a class="button small" href="/api/v1/faxes/{{f['id']}}/pdf?download=1" download>{{_('rec.download')}}</a>
        % end
        </td>
      </tr>
    % end
    % if not items:
      <tr class="empty"><td colspan="6">{{_('fax.none')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
