% rebase('base.tpl', title=_('kind.' + kind))
% include('config_tabs.tpl')
% can_edit = user['role'] == 'admin'
% shown = [f for f in fields if not f.secret]
<div class="page-head"><h1>{{_('kind.' + kind)}}</h1><span class="muted">{{_('admin.count', n=len(rows))}}</span></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
<section class="card">
  <div class="table-wrap">
  <table class="list">
    <thead><tr>
    % for f in shown:
      <th>{{_('field.' + kind + '.' + f.name)}}</th>
    % end
    % if kind == 'agents':
      <th>{{_('admin.queues')}}</th><th>{{_('admin.signed_in')}}</th>
    % end
      <th></th>
    </tr></thead>
    <tbody>
    % for row in rows:
      <tr>
      % for f in shown:
        % v = row.get(f.name)
        % if f.type == 'bool':
        <td><span class="flag {{'yes' if v else 'no'}}">{{_('admin.yes') if v else _('admin.no')}}</span></td>
        % elif f.choices:
        <td>{{choice(kind, f.name, v)}}</td>
        % elif f.name == 'schedule':
        <td>{{schedule_words(v)}}</td>
        % elif f.name == key and can_edit:
        <td><a href="/admin/{{kind}}/{{v}}"><strong>{{v}}</strong></a></td>
        % elif f.name == key:
        <td><strong>{{v}}</strong></td>
        % else:
        <td>{{'' if v is None else choice(kind, f.name, v)}}</td>
        % end
      % end
      % if kind == 'agents':
        <td>{{', '.join(row.get('queues') or [])}}</td>
        <td>
          <span class="state {{'free' if row['logged_in'] else 'logged_out'}}">{{_('live.signed_in') if row['logged_in'] else _('live.signed_out')}}</span>
          <form method="post" action="/agents/{{row['number']}}/{{'logout' if row['logged_in'] else 'login'}}" class="inline">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="next" value="/admin/agents">
            <button class="small">{{_('admin.sign_out') if row['logged_in'] else _('admin.sign_in')}}</button>
          </form>
        </td>
      % end
        <td class="actions">
        % if kind == 'queues':
          <a class="button small" href="/admin/queues/{{row['name']}}/members">{{_('admin.members')}}</a>
        % end
        % if can_edit:
          <a class="button small" href="/admin/{{kind}}/{{row[key]}}">{{_('admin.edit')}}</a>
          <form method="post" action="/admin/{{kind}}/{{row[key]}}/delete" class="inline" data-confirm="{{_('admin.confirm_delete', what=row[key])}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button class="small danger">{{_('admin.delete')}}</button>
          </form>
        % end
        </td>
      </tr>
    % end
    % if not rows:
      <tr class="empty"><td colspan="{{len(shown) + 3}}">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
% if can_edit:
<section class="card">
  <h2>{{_('admin.add_' + kind)}}</h2>
  <form method="post" action="/admin/{{kind}}" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % include('config_fields.tpl', mine={})
    <div class="buttons"><button class="primary">{{_('admin.create')}}</button></div>
  </form>
</section>
% end
