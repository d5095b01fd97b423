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
        % elif f.name == key:
        <td><strong>{{v}}</strong></td>
        % else:
        <td>{{'' if v is None else v}}</td>
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
    % for f in fields:
    % v = values.get(f.name, f.default)
    % fid = 'f-' + f.name
    <div class="field {{'has-error' if f.name in errors else ''}} {{'check' if f.type == 'bool' else ''}}">
      <label for="{{fid}}">{{_('field.' + kind + '.' + f.name)}}{{' *' if f.required else ''}}</label>
      % if f.type == 'bool':
      <input type="checkbox" id="{{fid}}" name="{{f.name}}" {{'checked' if v else ''}}>
      % elif f.type == 'ref':
      <select id="{{fid}}" name="{{f.name}}">
        <option value="">{{_('admin.none')}}</option>
        % for option in refs.get(f.name, []):
        <option value="{{option}}" {{'selected' if option == v else ''}}>{{option}}</option>
        % end
      </select>
      % elif f.choices:
      <select id="{{fid}}" name="{{f.name}}">
        % for c in f.choices:
        <option value="{{c}}" {{'selected' if c == v else ''}}>{{choice(kind, f.name, c)}}</option>
        % end
      </select>
      % elif f.type == 'int':
      <input type="number" id="{{fid}}" name="{{f.name}}" value="{{'' if v is None else v}}" {{!'min="%d"' % f.min if f.min is not None else ''}} {{!'max="%d"' % f.max if f.max is not None else ''}}>
      % else:
      <input type="{{'password' if f.secret else 'text'}}" id="{{fid}}" name="{{f.name}}" value="{{'' if (v is None or f.secret) else v}}" {{!'maxlength="%d"' % f.max_length if f.max_length else ''}} {{'autocomplete=new-password' if f.secret else ''}}>
      % end
      % if f.name in errors:
      <em class="field-error">{{field_error(errors[f.name], 'help.' + kind + '.' + f.name if f.help else None, f.help)}}</em>
      % elif f.help:
      <small class="hint">{{_('help.' + kind + '.' + f.name)}}</small>
      % end
    </div>
    % end
    % for name in errors:
    % if name not in [f.name for f in fields]:
    <p class="alert wide">{{name}}: {{field_error(errors[name])}}</p>
    % end
    % end
    <div class="buttons"><button class="primary">{{_('admin.create')}}</button></div>
  </form>
</section>
% end
