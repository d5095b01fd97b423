% rebase('base.tpl', title=_('rates.title'))
% include('config_tabs.tpl')
% names = {p['id']: p['name'] for p in plans}
% default = next((p for p in plans if p['is_default']), None)
<div class="page-head"><h1>{{_('rates.title')}}</h1><span class="muted">{{_('admin.count', n=len(plans))}}</span>
  <a class="button primary" href="/admin/rates/new">{{_('rates.add')}}</a></div>
<p class="muted">{{_('rates.intro')}}</p>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem.get('params'))}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
<section class="card">
  <div class="table-wrap">
  <table class="list" id="rate-plans">
    <thead><tr><th>{{_('rates.name')}}</th><th>{{_('rates.unit')}}</th>
      % for c in classes:
      <th class="num">{{_('rates.class.' + c)}}</th>
      % end
      <th class="num">{{_('rates.minimum')}}</th><th class="num">{{_('rates.call_fee')}}</th>
      <th class="num">{{_('rates.trunk_rent')}}</th><th class="num">{{_('rates.agent_rent')}}</th><th></th></tr></thead>
    <tbody>
    % for p in plans:
      % prices = {r['class']: r['per_minute'] for r in p['rates']}
      <tr data-plan="{{p['id']}}">
        <td><a href="/admin/rates/{{p['id']}}"><strong>{{p['name']}}</strong></a>
          % if p['is_default']:
          <span class="flag yes">{{_('rates.default')}}</span>
          % end
        </td>
        <td>{{_('rates.unit.same', n=p['first_seconds']) if p['first_seconds'] == p['next_seconds'] else _('rates.unit.split', first=p['first_seconds'], next=p['next_seconds'])}}</td>
        % for c in classes:
        <td class="num">{{_('rates.per_minute_value', price=prices[c]) if c in prices else _('rates.not_priced')}}</td>
        % end
        <td class="num">¥{{p['minimum']}}</td><td class="num">¥{{p['call_fee']}}</td>
        <td class="num">¥{{p['trunk_rent']}}</td><td class="num">¥{{p['agent_rent']}}</td>
        <td class="actions">
          <a class="button small" href="/admin/rates/{{p['id']}}">{{_('admin.edit')}}</a>
          <form method="post" action="/admin/rates/{{p['id']}}/delete" class="inline" data-confirm="{{_('rates.confirm_delete', name=p['name'])}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('admin.delete')}}</button>
          </form>
        </td>
      </tr>
    % end
    % if not plans:
      <tr class="empty"><td colspan="{{7 + len(classes)}}">{{_('rates.none')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
<section class="card">
  <h2>{{_('rates.trunks')}}</h2>
  <p class="muted">{{_('rates.trunks_intro')}}</p>
  <div class="table-wrap">
  <table class="list" id="trunk-plans">
    <thead><tr><th>{{_('rates.trunk')}}</th><th>{{_('rates.plan')}}</th></tr></thead>
    <tbody>
    % for t in trunks:
      <tr data-trunk="{{t['name']}}"><td>{{t['display_name'] or t['name']}}</td>
        <td><form method="post" action="/admin/rates/trunks" class="row-form">
          <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="trunk" value="{{t['name']}}">
          <select name="plan" aria-label="{{_('rates.plan_of', trunk=t['display_name'] or t['name'])}}">
            <option value="">{{_('rates.default_plan', name=default['name']) if default else _('rates.no_default')}}</option>
            % for p in plans:
            <option value="{{p['id']}}" {{'selected' if t['plan_id'] == p['id'] else ''}}>{{p['name']}}</option>
            % end
          </select>
          <button class="small">{{_('dispositions.save')}}</button>
        </form></td></tr>
    % end
    % if not trunks:
      <tr class="empty"><td colspan="2">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
<section class="card">
  <h2>{{_('rates.dids')}}</h2>
  <p class="muted">{{_('rates.dids_intro')}}</p>
  <div class="table-wrap">
  <table class="list" id="did-plans">
    <thead><tr><th>{{_('rates.did')}}</th><th>{{_('rates.plan')}}</th></tr></thead>
    <tbody>
    % for d in dids:
      <tr data-did="{{d['number']}}"><td>{{d['number']}} <span class="muted">{{d['description']}}</span></td>
        <td><form method="post" action="/admin/rates/dids" class="row-form">
          <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="did" value="{{d['number']}}">
          <select name="plan" aria-label="{{_('rates.plan_of', trunk=d['number'])}}">
            <option value="">{{_('rates.trunk_plan')}}</option>
            % for p in plans:
            <option value="{{p['id']}}" {{'selected' if d['plan_id'] == p['id'] else ''}}>{{p['name']}}</option>
            % end
          </select>
          <button class="small">{{_('dispositions.save')}}</button>
        </form></td></tr>
    % end
    % if not dids:
      <tr class="empty"><td colspan="2">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
