% rebase('base.tpl', title=_('nav.workorders'))
<div class="page-head">
  <h1>{{_('nav.workorders')}}</h1><span class="muted">{{_('wo.count', n=len(items))}}</span>
  <a class="button primary" href="/workorders/new">{{_('wo.new')}}</a>
  % if user['role'] in ('admin', 'supervisor'):
  <a class="button" href="/workorders/stats">{{_('wo.stats')}}</a>
  % end
  % if user['role'] == 'admin':
  <a class="button" href="/admin/workorder-types">{{_('wo.types')}}</a>
  % end
</div>
<nav class="tabs">
% for s in ('open', 'overdue', 'closed', 'all'):
  <a href="/workorders?state={{s}}{{'&type=' + type_id if type_id else ''}}" class="{{'on' if s == state else ''}}">{{_('wo.tab.' + s)}}</a>
% end
</nav>
<section class="card">
  <div class="table-wrap">
  <table class="list" id="workorders">
    <thead><tr><th>#</th><th>{{_('wo.title')}}</th><th>{{_('wo.type')}}</th><th>{{_('wo.state')}}</th><th>{{_('wo.priority')}}</th>
      <th>{{_('wo.customer')}}</th><th>{{_('wo.assignee')}}</th><th>{{_('wo.due_at')}}</th></tr></thead>
    <tbody>
    % for o in items:
      <tr data-id="{{o['id']}}" class="{{'overdue' if o['overdue'] else ('done' if o['closed_at'] else '')}}">
        <td><a href="/workorders/{{o['id']}}">{{o['id']}}</a></td>
        <td><a href="/workorders/{{o['id']}}">{{o['title']}}</a></td>
        <td>{{o['type_label']}}</td><td>{{o['state_label']}}</td><td>{{label('wo_priority', o['priority'])}}</td>
        <td>{{o['customer']['name'] if o['customer'] else ''}}</td>
        <td>{{_('wo.assignee_kind.' + o['assignee_kind']) + ' ' + o['assignee'] if o['assignee_kind'] else _('wo.nobody')}}</td>
        <td class="nowrap">{{when(o['due_at']) if o['due_at'] else ''}}
          % if o['escalation_level']:
          <span class="flag no">{{_('wo.escalated.' + str(o['escalation_level']))}}</span>
          % end
        </td>
      </tr>
    % end
    % if not items:
      <tr class="empty"><td colspan="8">{{_('wo.none')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
