% rebase('base.tpl', title=_('account.title'))
<div class="page-head"><h1>{{_('account.title')}}</h1><span class="muted">{{user['username']}} · {{_('role.' + user['role'])}}</span></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}}</p>
% end
<section class="card">
  <h2>{{_('account.language')}}</h2>
  <form method="post" action="/account/language" class="row">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <select name="language" aria-label="{{_('account.language')}}">
      <option value="zh_CN" lang="zh-CN" {{'selected' if lang == 'zh_CN' else ''}}>中文（简体）</option>
      <option value="en" lang="en" {{'selected' if lang == 'en' else ''}}>English</option>
    </select>
    <button class="primary">{{_('account.save')}}</button>
  </form>
</section>
<section class="card">
  <h2>{{_('account.tokens')}}</h2>
  <p class="muted">{{_('account.tokens_intro')}}</p>
  % if new_token:
  <div class="notice"><p>{{_('account.token_once')}}</p><code id="new-token">{{new_token}}</code></div>
  % end
  <table class="list">
    <thead><tr><th>{{_('account.token_name')}}</th><th>{{_('account.created')}}</th><th>{{_('account.last_used')}}</th><th>{{_('account.expires')}}</th><th></th></tr></thead>
    <tbody>
    % for t in tokens:
      <tr><td><strong>{{t['name']}}</strong></td><td class="mono">{{when(t['created_at'])}}</td>
      <td class="mono">{{when(t['last_used_at']) if t['last_used_at'] else _('account.never')}}</td>
      <td class="mono">{{(_('account.expired') + ' ' if t['expired'] else '') + when(t['expires_at']) if t['expires_at'] else _('account.no_expiry')}}</td>
      <td class="actions"><form method="post" action="/account/tokens/{{t['id']}}/delete" class="inline" data-confirm="{{_('account.confirm_revoke', name=t['name'])}}">
        <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('account.revoke')}}</button></form></td></tr>
    % end
    % if not tokens:
      <tr class="empty"><td colspan="5">{{_('account.no_tokens')}}</td></tr>
    % end
    </tbody>
  </table>
  <form method="post" action="/account/tokens" class="row">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input name="name" placeholder="{{_('account.token_name')}}" aria-label="{{_('account.token_name')}}" maxlength="64">
    <select name="expires_in_days" aria-label="{{_('account.expires')}}">
      <option value="">{{_('account.expires_never')}}</option>
      % for days in (30, 90, 365):
      <option value="{{days}}">{{_('account.expires_in', days=days)}}</option>
      % end
    </select>
    <button class="primary">{{_('account.create_token')}}</button>
  </form>
</section>
