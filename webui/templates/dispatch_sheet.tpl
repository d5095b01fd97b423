<!doctype html>
<html lang="{{'zh-CN' if lang == 'zh_CN' else 'en'}}">
<head><meta charset="utf-8"><title>#{{order['id']}} {{order['title']}}</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body class="sheet">
<h1>{{_('wo.sheet')}} #{{order['id']}}</h1>
<table class="sheet-table">
  <tr><th>{{_('wo.title')}}</th><td>{{order['title']}}</td></tr>
  <tr><th>{{_('wo.type')}}</th><td>{{order['type_label']}}</td></tr>
  <tr><th>{{_('wo.state')}}</th><td>{{order['state_label']}}</td></tr>
  <tr><th>{{_('wo.priority')}}</th><td>{{label('wo_priority', order['priority'])}}</td></tr>
  <tr><th>{{_('wo.customer')}}</th><td>{{(order['customer']['name'] + ' ' + order['customer']['phone']) if order['customer'] else '—'}}</td></tr>
  <tr><th>{{_('wo.assignee')}}</th><td>{{order['assignee']}} {{order['engineer_contact']}}</td></tr>
  <tr><th>{{_('wo.created')}}</th><td>{{when(order['created_at'])}}</td></tr>
  <tr><th>{{_('wo.due_at')}}</th><td>{{when(order['due_at']) if order['due_at'] else '—'}}</td></tr>
% for f in order['fields']:
  <tr><th>{{f['label']}}</th><td>{{order['custom'].get(f['name']) if order['custom'].get(f['name']) is not None else '—'}}</td></tr>
% end
</table>
<h2>{{_('wo.history')}}</h2>
<ul>
% for h in order['history']:
  <li>{{when(h['at'])}} {{h['actor']}}: {{_('wo.event.' + h['kind'])}} {{h['to_label'] if h['kind'] in ('move', 'create') else ''}} {{h['note'] if h['kind'] != 'escalate' else ''}}</li>
% end
</ul>
<p class="sheet-sign">{{_('wo.sheet_sign')}}: ____________________ &nbsp; {{_('wo.when')}}: ____________</p>
</body></html>
