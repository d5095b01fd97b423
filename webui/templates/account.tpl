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
    <thead><tr><th>{{_('account.token_name')}}</th><th>{{_('tokens.scopes')}}</th><th>{{_('tokens.addresses')}}</th><th>{{_('account.created')}}</th><th>{{_('account.last_used')}}</th><th>{{_('account.expires')}}</th><th></th></tr></thead>
    <tbody>
    % for t in tokens:
      <tr data-token="{{t['id']}}"><td><strong>{{t['name']}}</strong></td>
      <td class="token-scopes">{{('、' if lang == 'zh_CN' else ', ').join(_(scope_msgid(sc)) for sc in t['scopes']) if t['scopes'] else _('tokens.full_access')}}</td>
      <td class="token-addresses mono" translate="no">{{' '.join(t['addresses']) if t['addresses'] else _('tokens.any_address')}}</td>
      <td class="mono">{{when(t['created_at'])}}</td>
      <td class="mono">{{when(t['last_used_at']) if t['last_used_at'] else _('account.never')}}</td>
      <td class="mono">{{(_('account.expired') + ' ' if t['expired'] else '') + when(t['expires_at']) if t['expires_at'] else _('account.no_expiry')}}</td>
      <td class="actions"><form method="post" action="/account/tokens/{{t['id']}}/delete" class="inline" data-confirm="{{_('account.confirm_revoke', name=t['name'])}}">
        <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('account.revoke')}}</button></form></td></tr>
    % end
    % if not tokens:
      <tr class="empty"><td colspan="7">{{_('account.no_tokens')}}</td></tr>
    % end
    </tbody>
  </table>
  % errors = asked.get('fields') or {}
  <form method="post" action="/account/tokens" class="token-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="row">
    <input name="name" placeholder="{{_('account.token_name')}}" aria-label="{{_('account.token_name')}}" maxlength="64" value="{{asked.get('name', '')}}">
    <select name="expires_in_days" aria-label="{{_('account.expires')}}">
      <option value="">{{_('account.expires_never')}}</option>
      % for days in (30, 90, 365):
      <option value="{{days}}">{{_('account.expires_in', days=days)}}</option>
      % end
    </select>
    % if 'name' in errors:
    <em class="field-error">{{field_error(errors['name'])}}</em>
    % end
    </div>
    <fieldset class="{{'has-error' if 'scopes' in errors else ''}}" id="token-scopes">
      <legend>{{_('tokens.scopes')}}</legend>
      <p class="hint">{{_('tokens.scopes_hint')}}</p>
      <span class="checks">
      % for sc in scopes:
        <label class="inline-check"><input type="checkbox" name="scopes" value="{{sc}}" title="{{_(scope_msgid(sc) + '_help')}}" {{'checked' if sc in asked.get('scopes', ()) else ''}}> {{_(scope_msgid(sc))}} <code class="muted" translate="no">{{sc}}</code></label>
      % end
      </span>
      % if 'scopes' in errors:
      <em class="field-error">{{field_error(errors['scopes'])}}</em>
      % end
    </fieldset>
    <div class="field {{'has-error' if 'addresses' in errors else ''}}">
      <label for="token-addresses">{{_('tokens.addresses')}}</label>
      <input id="token-addresses" name="addresses" value="{{asked.get('addresses', '')}}" placeholder="192.0.2.10, 10.1.0.0/16, 2001:db8::/32">
      <span class="hint">{{_('tokens.addresses_hint')}}</span>
      % if 'addresses' in errors:
      <em class="field-error">{{field_error(errors['addresses'])}}</em>
      % end
    </div>
    <button class="primary">{{_('account.create_token')}}</button>
  </form>
</section>
