% rebase('base.tpl', title=_('nav.audit'))
<section class="card">
  <h1>{{_('nav.audit')}}</h1>
  <table class="list">
    <thead><tr><th>{{_('audit.at')}}</th><th>{{_('audit.who')}}</th><th>{{_('audit.action')}}</th><th>{{_('audit.object')}}</th><th>{{_('audit.detail')}}</th></tr></thead>
    <tbody>
    % for r in rows:
      <tr><td class="mono">{{r['at']}}</td><td>{{r['username']}}</td><td>{{_('audit.' + r['action'])}}</td><td>{{r['object_type']}} {{r['object_id']}}</td><td class="mono small">{{r['detail']}}</td></tr>
    % end
    % if not rows:
      <tr class="empty"><td colspan="5">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
</section>
