% rebase('base.tpl', title=_('account.title'))
<section class="card">
  <h1>{{_('account.title')}}</h1>
  <p>{{user['username']}} · {{_('role.' + user['role'])}}</p>
  <form method="post" action="/account/language" class="row">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label>{{_('account.language')}}
      <select name="language">
        <option value="zh_CN" {{'selected' if lang == 'zh_CN' else ''}}>中文（简体）</option>
        <option value="en" {{'selected' if lang == 'en' else ''}}>English</option>
      </select>
    </label>
    <button class="primary">{{_('account.save')}}</button>
  </form>
</section>
<section class="card">
  <h2>{{_('account.tokens')}}</h2>
  <p class="muted">{{_('account.tokens_intro')}}</p>
  % if new_token:
  <p class="notice">{{_('account.token_once')}} <code id="new-token">{{new_token}}</code></p>
  % end
  <table class="list">
    <thead><tr><th>{{_('account.token_name')}}</th><th>{{_('account.created')}}</th><th>{{_('account.last_used')}}</th><th></th></tr></thead>
    <tbody>
    % for t in tokens:
      <tr><td>{{t['name']}}</td><td class="mono">{{t['created_at']}}</td><td class="mono">{{t['last_used_at'] or _('account.never')}}</td>
      <td class="actions"><form method="post" action="/account/tokens/{{t['id']}}/delete" class="inline">
        <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('account.revoke')}}</button></form></td></tr>
    % end
    % if not tokens:
      <tr class="empty"><td colspan="4">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  <form method="post" action="/account/tokens" class="row">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input name="name" placeholder="{{_('account.token_name')}}" required maxlength="64">
    <button class="primary">{{_('account.create_token')}}</button>
  </form>
</section>
