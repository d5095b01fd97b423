% rebase('base.tpl', title=_('nav.audit'))
<div class="page-head"><h1>{{_('nav.audit')}}</h1><span class="muted">{{_('audit.latest', n=len(rows))}}</span></div>
<section class="card">
  <table class="list">
    <thead><tr><th>{{_('audit.at')}}</th><th>{{_('audit.who')}}</th><th>{{_('audit.action')}}</th><th>{{_('audit.object')}}</th><th>{{_('audit.detail')}}</th></tr></thead>
    <tbody>
    % for r in rows:
      % action, kind = r['action'], r['object_type']
      <tr><td class="mono nowrap">{{when(r['at'], True)}}</td><td>{{r['username']}}</td>
        <td><span class="action {{action}}">{{_('audit.' + action) if action in ('create', 'update', 'delete', 'refused', 'login_failed', 'lockout', 'unlock') else action}}</span></td>
        <td>{{_('kind.' + kind) if kind in kinds else kind}} <strong>{{r['object_id']}}</strong></td>
        <td class="mono small detail">{{r['detail']}}</td></tr>
    % end
    % if not rows:
      <tr class="empty"><td colspan="5">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  <p class="hint">{{_('times.office', tz=office_tz())}}</p>
</section>
