% rebase('base.tpl', title=_('kind.users'))
% include('config_tabs.tpl')
% from urllib.parse import quote
% endonyms = {'zh_CN': '中文（简体）', 'en': 'English'}  # as on the account page: each in its own language
<div class="page-head"><h1>{{_('kind.users')}}</h1><span class="muted">{{_('admin.count', n=len(rows))}}</span></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
<section class="card">
  <p class="muted">{{_('users.intro')}}</p>
  <p class="hint">{{_('users.password_reset_note')}}</p>
  <div class="table-wrap">
  <table class="list" id="users">
    <thead><tr><th>{{_('users.username')}}</th><th>{{_('users.role')}}</th><th>{{_('users.language')}}</th>
      <th>{{_('users.active')}}</th><th>{{_('users.new_password')}}</th><th></th></tr></thead>
    <tbody>
    % for u in rows:
      % errs = edit_errors if editing == u['username'] else {}
      <tr data-user="{{u['username']}}">
        <td><strong>{{u['username']}}</strong>
          % if u['locked_until']:
          <span class="badge down" title="{{_('lockout.until', at=when(u['locked_until']))}}">{{_('lockout.locked')}}</span>
          % end
        </td>
        <td>
          <select name="role" form="u-{{u['id']}}" aria-label="{{_('users.role')}}">
          % for r in roles:
            <option value="{{r}}" {{'selected' if r == u['role'] else ''}}>{{_('role.' + r)}}</option>
          % end
          </select>
          % if 'role' in errs:
          <em class="field-error">{{field_error(errs['role'])}}</em>
          % end
        </td>
        <td>
          <select name="language" form="u-{{u['id']}}" aria-label="{{_('users.language')}}">
          % for code in languages:
            <option value="{{code}}" {{'selected' if code == u['language'] else ''}}>{{endonyms[code]}}</option>
          % end
          </select>
        </td>
        <td><input type="checkbox" name="active" form="u-{{u['id']}}" aria-label="{{_('users.active')}}" {{'checked' if u['active'] else ''}}>
          % if 'active' in errs:
          <em class="field-error">{{field_error(errs['active'])}}</em>
          % end
        </td>
        <td><input type="password" name="password" form="u-{{u['id']}}" autocomplete="new-password" aria-label="{{_('users.new_password')}}" placeholder="{{_('users.unchanged')}}">
          % if 'password' in errs:
          <em class="field-error">{{field_error(errs['password'])}}</em>
          % end
        </td>
        <td class="actions">
          <form method="post" action="/admin/users/{{u['username']}}" id="u-{{u['id']}}" class="inline">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button class="small">{{_('admin.save')}}</button>
          </form>
        </td>
      </tr>
    % end
    </tbody>
  </table>
  </div>
</section>
<section class="card" id="lockouts">
  <h2>{{_('lockout.title')}}</h2>
  <p class="muted">{{_('lockout.intro')}}</p>
  <table class="list">
    <thead><tr><th>{{_('lockout.who')}}</th><th>{{_('lockout.until_col')}}</th><th>{{_('lockout.count')}}</th><th></th></tr></thead>
    <tbody>
    % for x in lockouts:
      <tr data-lockout="{{x['key']}}"><td>{{_('lockout.kind.' + x['kind']) if x['kind'] in ('user', 'addr', 'console', 'prov') else x['kind']}} <strong>{{x['name']}}</strong></td>
        <td class="mono">{{when(x['until'])}}</td><td>{{x['lockouts']}}</td>
        <td class="actions"><form method="post" action="/admin/lockouts/{{quote(x['key'], safe=':@')}}/clear" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small">{{_('lockout.clear')}}</button></form></td></tr>
    % end
    % if not lockouts:
      <tr class="empty"><td colspan="4">{{_('lockout.none')}}</td></tr>
    % end
    </tbody>
  </table>
</section>
<section class="card">
  <h2>{{_('users.add')}}</h2>
  <form method="post" action="/admin/users" class="grid" novalidate id="user-new">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field {{'has-error' if 'username' in errors else ''}}">
      <label for="n-username">{{_('users.username')}} *</label>
      <input id="n-username" name="username" value="{{values.get('username', '')}}" maxlength="64" autocomplete="off">
      % if 'username' in errors:
      <em class="field-error">{{field_error(errors['username'])}}</em>
      % end
    </div>
    <div class="field {{'has-error' if 'role' in errors else ''}}">
      <label for="n-role">{{_('users.role')}} *</label>
      <select id="n-role" name="role">
      % for r in roles:
        <option value="{{r}}" {{'selected' if r == values.get('role', 'agent') else ''}}>{{_('role.' + r)}}</option>
      % end
      </select>
    </div>
    <div class="field">
      <label for="n-language">{{_('users.language')}}</label>
      <select id="n-language" name="language">
      % for code in languages:
        <option value="{{code}}" {{'selected' if code == values.get('language', lang) else ''}}>{{endonyms[code]}}</option>
      % end
      </select>
    </div>
    <div class="field {{'has-error' if 'password' in errors else ''}}">
      <label for="n-password">{{_('users.password')}} *</label>
      <input id="n-password" name="password" type="password" autocomplete="new-password">
      % if 'password' in errors:
      <em class="field-error">{{field_error(errors['password'])}}</em>
      % end
    </div>
    <div class="buttons"><button class="primary">{{_('admin.create')}}</button></div>
  </form>
</section>
