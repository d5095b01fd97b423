% rebase('base.tpl', title=plan['name'] if plan else _('rates.add'))
% include('config_tabs.tpl')
% v = values if values is not None else (plan or {})
% prices = {r['class']: r['per_minute'] for r in v.get('rates', [])}
% unit = '%s/%s' % (v.get('first_seconds', 60), v.get('next_seconds', 60))
<div class="page-head"><h1>{{plan['name'] if plan else _('rates.add')}}</h1><a href="/admin/rates">{{_('rates.back')}}</a></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem.get('params'))}}</p>
% end
<form method="post" action="/admin/rates{{'/%d' % plan['id'] if plan else ''}}" class="card grid" id="rate-plan-form">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <div class="field {{'has-error' if 'name' in errors else ''}}"><label for="f-name">{{_('rates.name')}} *</label>
    <input id="f-name" name="name" value="{{v.get('name', '')}}" required maxlength="64">
    % if 'name' in errors:
    <em class="field-error">{{field_error(errors['name'])}}</em>
    % end
  </div>
  <div class="field {{'has-error' if 'first_seconds' in errors or 'next_seconds' in errors else ''}}"><label for="f-unit">{{_('rates.unit')}}</label>
    <select id="f-unit" name="unit">
      % for first, after in units:
      <option value="{{first}}/{{after}}" {{'selected' if unit == '%d/%d' % (first, after) else ''}}>{{_('rates.unit.same', n=first) if first == after else _('rates.unit.split', first=first, next=after)}}</option>
      % end
    </select>
    <small class="hint">{{_('rates.unit_hint')}}</small>
  </div>
  % for name, hint in (('minimum', ''), ('call_fee', ''), ('trunk_rent', ''), ('agent_rent', 'rates.agent_rent_hint')):
  <div class="field {{'has-error' if name in errors else ''}}"><label for="f-{{name}}">{{_('rates.' + name + '_yuan')}}</label>
    <input id="f-{{name}}" name="{{name}}" value="{{v.get(name, '0.00')}}" inputmode="decimal">
    % if name in errors:
    <em class="field-error">{{field_error(errors[name])}}</em>
    % elif hint:
    <small class="hint">{{_(hint)}}</small>
    % end
  </div>
  % end
  <div class="field"><label class="check"><input type="checkbox" name="is_default" {{'checked' if v.get('is_default') else ''}}> {{_('rates.is_default')}}</label>
    <small class="hint">{{_('rates.default_hint')}}</small></div>
  <fieldset class="wide"><legend>{{_('rates.prices')}}</legend>
    <p class="muted small">{{_('rates.prices_hint')}}</p>
    % for c in classes:
    % key = 'rate_' + c if 'rate_' + c in errors else None
    <div class="field {{'has-error' if key else ''}}"><label for="f-rate-{{c}}">{{_('rates.class.' + c)}}</label>
      <input id="f-rate-{{c}}" name="rate_{{c}}" value="{{prices.get(c, '')}}" inputmode="decimal" placeholder="{{_('rates.not_priced')}}">
      % if key:
      <em class="field-error">{{field_error(errors[key])}}</em>
      % end
    </div>
    % end
  </fieldset>
  <div class="buttons"><button class="primary">{{_('dispositions.save') if plan else _('admin.create')}}</button></div>
</form>
