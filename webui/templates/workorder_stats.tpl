% rebase('base.tpl', title=_('wo.stats'))
<p class="crumbs"><a href="/workorders">{{_('nav.workorders')}}</a> › {{_('wo.stats')}}</p>
<div class="page-head">
  <h1>{{_('wo.stats')}}</h1>
  <a class="button" href="/workorders/stats.xlsx" id="stats-xlsx">{{_('wo.export')}}</a>
</div>
<section class="card" id="stats-totals">
  <p><strong id="st-open">{{stats['open']}}</strong> {{_('workorders.open')}} ·
     <strong id="st-overdue">{{stats['overdue']}}</strong> {{_('workorders.overdue')}} ·
     <strong id="st-closed">{{stats['closed']}}</strong> {{_('workorders.closed')}} ·
     {{_('workorders.avg_hours')}}: <strong id="st-avg">{{stats['avg_hours'] if stats['avg_hours'] is not None else '—'}}</strong></p>
</section>
<div class="columns">
% for key, head, col in (('by_type', 'workorders.type', 'type'), ('by_priority', 'workorders.priority', 'priority'), ('by_assignee', 'workorders.assignee', 'assignee')):
<section class="card" id="stats-{{key}}">
  <h2>{{_('workorders.' + key)}}</h2>
  <table class="list"><thead><tr><th>{{_(head)}}</th><th class="num">{{_('workorders.open')}}</th><th class="num">{{_('workorders.overdue')}}</th></tr></thead>
  <tbody>
  % for r in stats[key]:
    <tr><td>{{(_('wo.assignee_kind.' + r['assignee_kind']) + ' ' + r['assignee']) if key == 'by_assignee' and r['assignee_kind'] else (_('wo.nobody') if key == 'by_assignee' else r[col])}}</td>
      <td class="num">{{r['open']}}</td><td class="num">{{r['overdue']}}</td></tr>
  % end
  % if not stats[key]:
    <tr class="empty"><td colspan="3">{{_('wo.none')}}</td></tr>
  % end
  </tbody></table>
</section>
% end
<section class="card" id="stats-time_to_close">
  <h2>{{_('workorders.time_to_close')}}</h2>
  <table class="list"><thead><tr><th>{{_('workorders.type')}}</th><th class="num">{{_('workorders.closed')}}</th><th class="num">{{_('workorders.avg_hours')}}</th></tr></thead>
  <tbody>
  % for r in stats['time_to_close']:
    <tr><td>{{r['type']}}</td><td class="num">{{r['closed']}}</td><td class="num">{{r['avg_hours']}}</td></tr>
  % end
  % if not stats['time_to_close']:
    <tr class="empty"><td colspan="3">{{_('wo.none')}}</td></tr>
  % end
  </tbody></table>
</section>
</div>
