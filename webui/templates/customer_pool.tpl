% rebase('base.tpl', title=_('crm.pool'))
<p class="crumbs"><a href="/customers">{{_('nav.customers')}}</a> › {{_('crm.pool')}}</p>
<div class="page-head">
  <h1>{{_('crm.pool')}}</h1>
  % if result:
  <span class="muted">{{_('crm.count', n=result['total'])}}</span>
  % end
</div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem.get('params'))}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
% if admin:
<section class="card" id="pool-settings">
  <h2>{{_('crm.pool_settings')}}</h2>
  <form method="post" action="/customers/pool/settings" class="row">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field check"><label for="p-enabled">{{_('crm.pool_enabled')}}</label>
      <input type="checkbox" id="p-enabled" name="enabled" {{'checked' if settings.enabled else ''}}></div>
    <div class="field"><label for="p-limit">{{_('crm.pool_limit')}}</label>
      <input type="number" id="p-limit" name="limit" value="{{settings.limit}}" min="0" max="{{max_limit}}"></div>
    <button class="primary">{{_('crm.pool_save')}}</button>
  </form>
  <p class="hint">{{_('crm.pool_help')}}</p>
</section>
% end
% if result is None:
<p class="notice" id="pool-off">{{_('crm.pool_off')}}</p>
% else:
% if not settings.enabled:
<p class="notice" id="pool-off">{{_('crm.pool_off_staff')}}</p>
% elif can_claim:
<p class="hint" id="pool-held">{{_('crm.pool_held_limit', n=result['held'], limit=settings.limit) if settings.limit else _('crm.pool_held', n=result['held'])}}</p>
% end
<section class="card">
  <form method="get" action="/customers/pool" class="row search" role="search">
    <div class="field grow"><label for="s-q">{{_('crm.search')}}</label>
      <input id="s-q" name="q" value="{{q}}" placeholder="{{_('crm.search_hint')}}" maxlength="64"></div>
    <button class="primary">{{_('crm.search_button')}}</button>
  </form>
  <div class="table-wrap">
  <table class="list" id="pool">
    <thead><tr><th>{{_('field.customers.name')}}</th><th>{{_('field.customers.phone')}}</th>
      <th>{{_('field.customers.category')}}</th><th>{{_('field.customers.tags')}}</th><th>{{_('crm.created')}}</th>
      <th><span class="sr-only">{{_('crm.claim')}}</span></th></tr></thead>
    <tbody>
    % for c in result['items']:
      <tr>
        <td><a href="/customers/{{c['id']}}"><strong>{{c['name']}}</strong></a></td>
        <td class="mono">{{c['phone']}}</td>
        <td>{{c['category']}}</td>
        <td>
        % for t in c['tags']:
          <span class="tag">{{t}}</span>
        % end
        </td>
        <td class="nowrap small">{{when(c['created_at'])}}</td>
        <td class="actions">
        % if can_claim:
          <form method="post" action="/customers/{{c['id']}}/claim" class="inline">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button class="small primary" aria-label="{{_('crm.claim_who', name=c['name'])}}">{{_('crm.claim')}}</button></form>
        % end
        </td>
      </tr>
    % end
    % if not result['items']:
      <tr class="empty"><td colspan="6">{{_('crm.none_found') if q else _('crm.pool_empty')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
  % if result['pages'] > 1:
  <nav class="pager" aria-label="{{_('crm.pages')}}">
    % if result['page'] > 1:
    <a href="{{page_url(result['page'] - 1)}}" rel="prev">‹ {{_('crm.previous')}}</a>
    % end
    <span class="muted">{{_('crm.page_of', page=result['page'], pages=result['pages'])}}</span>
    % if result['page'] < result['pages']:
    <a href="{{page_url(result['page'] + 1)}}" rel="next">{{_('crm.next')}} ›</a>
    % end
  </nav>
  % end
</section>
% end
