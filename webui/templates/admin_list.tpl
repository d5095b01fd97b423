% rebase('base.tpl', title=_('kind.' + kind))
<section class="card">
  <h1>{{_('kind.' + kind)}}</h1>
  <table class="list">
    <thead><tr>
    % for f in fields:
    % if not f.secret:
      <th>{{_('field.' + kind + '.' + f.name)}}</th>
    % end
    % end
    % if kind == 'agents':
      <th>{{_('admin.queues')}}</th><th>{{_('admin.signed_in')}}</th>
    % end
      <th></th>
    </tr></thead>
    <tbody>
    % for row in rows:
      <tr>
      % for f in fields:
      % if not f.secret:
        % v = row.get(f.name)
        <td>{{(_('admin.yes') if v else _('admin.no')) if f.type == 'bool' else ('' if v is None else v)}}</td>
      % end
      % end
      % if kind == 'agents':
        <td>{{', '.join(row['queues'])}}</td>
        <td>
          <form method="post" action="/admin/agents/{{row['number']}}/{{'logout' if row['logged_in'] else 'login'}}" class="inline">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="next" value="/admin/agents">
            <button class="small">{{_('admin.sign_out') if row['logged_in'] else _('admin.sign_in')}}</button>
          </form>
        </td>
      % end
        <td class="actions">
        % if kind == 'queues':
          <a href="/admin/queues/{{row['name']}}/members">{{_('admin.members')}}</a>
        % end
        % if user['role'] == 'admin':
          <form method="post" action="/admin/{{kind}}/{{row[key]}}/delete" class="inline" onsubmit="return confirm('{{_('admin.confirm_delete')}}')">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button class="small danger">{{_('admin.delete')}}</button>
          </form>
        % end
        </td>
      </tr>
    % end
    % if not rows:
      <tr class="empty"><td colspan="{{len(fields) + 3}}">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
</section>
% if user['role'] == 'admin':
<section class="card">
  <h2>{{_('admin.add_' + kind)}}</h2>
  % if errors.get('_'):
  <p class="alert">{{errors['_']}}</p>
  % end
  <form method="post" action="/admin/{{kind}}" class="grid">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % for f in fields:
    % v = values.get(f.name, f.default)
    <label class="{{'has-error' if f.name in errors else ''}}">
      <span>{{_('field.' + kind + '.' + f.name)}}{{' *' if f.required else ''}}</span>
      % if f.type == 'bool':
      <input type="checkbox" name="{{f.name}}" {{'checked' if v else ''}}>
      % elif f.choices:
      <select name="{{f.name}}">
        % for c in f.choices:
        <option value="{{c}}" {{'selected' if c == v else ''}}>{{c}}</option>
        % end
      </select>
      % elif f.type == 'int':
      <input type="number" name="{{f.name}}" value="{{'' if v is None else v}}" {{!'min="%d"' % f.min if f.min is not None else ''}} {{!'max="%d"' % f.max if f.max is not None else ''}}>
      % else:
      <input type="{{'password' if f.secret else 'text'}}" name="{{f.name}}" value="{{'' if (v is None or f.secret) else v}}" {{'required' if f.required else ''}}>
      % end
      % if f.name in errors:
      <em class="field-error">{{field_error(errors[f.name])}}</em>
      % end
    </label>
    % end
    <div class="buttons"><button class="primary">{{_('admin.create')}}</button></div>
  </form>
</section>
% end
