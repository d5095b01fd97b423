% rebase('base.tpl', title=_('orders.report_title'))
<p class="crumbs"><a href="/orders">{{_('orders.title')}}</a></p>
<h1>{{_('orders.report_title')}}</h1>
<p class="alert" role="alert">{{_('orders.report_nothing_saved', n=report['error_count'])}}</p>
<table class="list" id="report">
  <thead><tr><th>{{_('orders.report_row')}}</th><th>{{_('orders.report_column')}}</th><th>{{_('orders.report_problem')}}</th></tr></thead>
  <tbody>
  % for e in report['errors']:
  <tr><td>{{e['row']}}</td><td>{{e['column']}}</td><td>{{field_error(e['error'])}}</td></tr>
  % end
  </tbody>
</table>
