% rebase('base.tpl', title=_('nav.customers'))
<div class="page-head">
  <h1>{{_('nav.customers')}}</h1><span class="muted">{{_('crm.count', n=result['total'])}}</span>
  % if staff:
  <a class="button" href="{{export_url}}">{{_('crm.export')}}</a>
  <a class="button" href="/customers/import">{{_('crm.import')}}</a>
  % end
  % if staff or pool_on:
  <a class="button" href="/customers/pool" id="pool-link">{{_('crm.pool')}}</a>
  % end
  <a class="button primary" href="/customers/new">{{_('crm.new')}}</a>
</div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
% if follow_ups:
<section class="card" id="due">
  <h2>{{_('crm.due_follow_ups')}}</h2>
  <table class="list">
    <thead><tr><th>{{_('crm.due_at')}}</th><th>{{_('crm.kind')}}</th><th>{{_('field.customers.name')}}</th><th>{{_('field.customers.phone')}}</th><th>{{_('crm.note')}}</th><th>{{_('live.agent')}}</th><th></th></tr></thead>
    <tbody>
    % for f in follow_ups:
      <tr class="{{'overdue' if f['overdue'] else ''}}">
        <td class="nowrap">{{f['due_at'][:16]}}{{!' <span class="flag no">' + _('crm.overdue') + '</span>' if f['overdue'] else ''}}</td>
        <td>{{_('crm.kind.' + f['kind'])}}</td>
        <td><a href="/customers/{{f['customer_id']}}">{{f['customer_name']}}</a></td>
        <td>
        % include('phone.tpl', number=f['customer_phone'])
        </td>
        <td class="detail">{{f['note']}}</td>
        <td>{{f['agent'] or ''}}</td>
        <td class="actions"><form method="post" action="/follow-ups/{{f['id']}}/done" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="next" value="/customers">
          <button class="small">{{_('crm.done')}}</button></form></td>
      </tr>
    % end
    </tbody>
  </table>
</section>
% end
<section class="card">
  <form method="get" action="/customers" class="row search" role="search">
    <div class="field grow"><label for="s-q">{{_('crm.search')}}</label>
      <input id="s-q" name="q" value="{{args['q']}}" placeholder="{{_('crm.search_hint')}}" maxlength="64"></div>
    <div class="field"><label for="s-tag">{{_('field.customers.tags')}}</label>
      <select id="s-tag" name="tag"><option value="">{{_('crm.any')}}</option>
      % for tag, n in tags:
        <option value="{{tag}}" {{'selected' if tag == args['tag'] else ''}}>{{tag}} ({{n}})</option>
      % end
      </select></div>
    <div class="field"><label for="s-category">{{_('field.customers.category')}}</label>
      <input id="s-category" name="category" value="{{args['category']}}" maxlength="32"></div>
    % if staff:
    <div class="field"><label for="s-manager">{{_('field.customers.account_manager')}}</label>
      <select id="s-manager" name="manager"><option value="">{{_('crm.any')}}</option>
        <option value="-" {{'selected' if args['manager'] == '-' else ''}}>{{_('crm.nobody')}}</option>
      % for a in agents:
        <option value="{{a['number']}}" {{'selected' if a['number'] == args['manager'] else ''}}>{{a['number']}} {{a['name']}}</option>
      % end
      </select></div>
    % end
    <button class="primary">{{_('crm.search_button')}}</button>
  </form>
</section>
<section class="card">
  <form method="post" action="/customers/assign" id="assign">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <input type="hidden" name="next" value="{{page_url(result['page'])}}">
  <div class="table-wrap">
  <table class="list" id="customers">
    <thead><tr>
      % if staff:
      <th><span class="sr-only">{{_('crm.select')}}</span></th>
      % end
      <th>{{_('field.customers.name')}}</th><th>{{_('field.customers.phone')}}</th><th>{{_('field.customers.category')}}</th>
      <th>{{_('field.customers.tags')}}</th><th>{{_('field.customers.account_manager')}}</th>
    </tr></thead>
    <tbody>
    % for c in result['items']:
      <tr>
        % if staff:
        <td><input type="checkbox" name="customer" value="{{c['id']}}" aria-label="{{c['name']}}"></td>
        % end
        <td><a href="/customers/{{c['id']}}"><strong>{{c['name']}}</strong></a></td>
        <td>
        % include('phone.tpl', number=c['phone'])
        </td>
        <td>{{c['category']}}</td>
        <td>
        % for t in c['tags']:
          <span class="tag">{{t}}</span>
        % end
        </td>
        <td>{{c['account_manager'] or ''}} <span class="muted">{{c['account_manager_name']}}</span></td>
      </tr>
    % end
    % if not result['items']:
      <tr class="empty"><td colspan="6">{{_('crm.none_found') if any(args.values()) else _('crm.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
  % if staff and result['items']:
  <div class="row bulk">
    <div class="field"><label for="a-agent">{{_('crm.assign_to')}}</label>
      <select id="a-agent" name="agent" required>
        <option value="" selected disabled>{{_('crm.choose_agent')}}</option>
        <option value="-">{{_('crm.reclaim')}}</option>
      % for a in agents:
        <option value="{{a['number']}}">{{a['number']}} {{a['name']}}</option>
      % end
      </select></div>
    <button>{{_('crm.assign')}}</button>
  </div>
  % end
  </form>
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
% if staff:
<section class="card">
  <h2>{{_('crm.transfer')}}</h2>
  <form method="post" action="/customers/transfer" class="row" data-confirm="{{_('crm.confirm_transfer')}}">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field"><label for="t-from">{{_('crm.transfer_from')}}</label>
      <select id="t-from" name="from" required>
        <option value="" selected disabled>{{_('crm.choose_agent')}}</option>
      % for a in agents:
        <option value="{{a['number']}}">{{a['number']}} {{a['name']}}</option>
      % end
      </select></div>
    <div class="field"><label for="t-to">{{_('crm.transfer_to')}}</label>
      <select id="t-to" name="to" required>
        <option value="" selected disabled>{{_('crm.choose_agent')}}</option>
      % for a in agents:
        <option value="{{a['number']}}">{{a['number']}} {{a['name']}}</option>
      % end
      </select></div>
    <button>{{_('crm.transfer_button')}}</button>
  </form>
  <p class="hint">{{_('crm.transfer_help')}}</p>
</section>
% end
<p class="status" id="dial-status" role="status" aria-live="polite" hidden></p>
% include('dial_script.tpl')
