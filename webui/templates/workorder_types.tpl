% rebase('base.tpl', title=_('wo.types'))
<p class="crumbs"><a href="/workorders">{{_('nav.workorders')}}</a> › {{_('wo.types')}}</p>
<div class="page-head">
  <h1>{{_('wo.types')}}</h1>
  <a class="button primary" href="/admin/workorder-types/new" id="new-type">{{_('wo.new_type')}}</a>
</div>
<section class="card">
  <table class="list" id="types">
    <thead><tr><th>{{_('wo.type_label')}}</th><th>{{_('wo.type_name')}}</th><th>{{_('wo.states')}}</th><th>{{_('wo.priorities')}}</th><th></th></tr></thead>
    <tbody>
    % for t in types:
      <tr><td><a href="/admin/workorder-types/{{t['id']}}">{{t['label']}}</a></td><td translate="no">{{t['name']}}</td>
        <td>{{' → '.join(s['label'] or s['name'] for s in t['states'])}}</td><td>{{', '.join(label('wo_priority', p) for p in t['priorities'])}}</td>
        <td>{{_('wo.from_survey') if t['from_survey'] else ''}} {{'' if t['active'] else _('wo.inactive')}}</td></tr>
    % end
    % if not types:
      <tr class="empty"><td colspan="5">{{_('wo.no_types')}}</td></tr>
    % end
    </tbody>
  </table>
</section>
