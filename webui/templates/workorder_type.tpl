% rebase('base.tpl', title=_('wo.type_editor'))
<p class="crumbs"><a href="/admin/workorder-types">{{_('wo.types')}}</a> › {{t['label'] or _('wo.new_type')}}</p>
<h1>{{t['label'] or _('wo.new_type')}}</h1>
% include('workorder_problem.tpl', problem=problem)
<form method="post" action="/admin/workorder-types/{{type_id if type_id else 'new'}}" class="card" id="type-form">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <div class="grid">
    <div class="field"><label for="t-label">{{_('wo.type_label')}} *</label><input id="t-label" name="label" maxlength="64" value="{{t['label']}}"></div>
    <div class="field"><label for="t-name">{{_('wo.type_name')}} *</label><input id="t-name" name="name" maxlength="32" value="{{t['name']}}" translate="no">
      <small class="hint">{{_('wo.type_name_help')}}</small></div>
    <div class="field"><label for="t-prio">{{_('wo.priorities')}}</label><input id="t-prio" name="priorities" maxlength="200" value="{{','.join(t['priorities'])}}">
      <small class="hint">{{_('wo.priorities_help')}}</small></div>
    <div class="field"><label for="t-leader">{{_('wo.leader_email')}}</label><input id="t-leader" name="leader_email" maxlength="1000" value="{{t['leader_email']}}"></div>
    <div class="field"><label for="t-manager">{{_('wo.manager_email')}}</label><input id="t-manager" name="manager_email" maxlength="1000" value="{{t['manager_email']}}"></div>
    <div class="field"><label><input type="checkbox" name="from_survey" value="1" {{'checked' if t['from_survey'] else ''}}> {{_('wo.from_survey')}}</label>
      <label><input type="checkbox" name="active" value="1" {{'checked' if t['active'] else ''}}> {{_('wo.active')}}</label></div>
  </div>
  <h2>{{_('wo.states')}}</h2>
  <p class="hint">{{_('wo.states_help')}}</p>
  <table class="list" id="states">
    <thead><tr><th>{{_('wo.state_name')}}</th><th>{{_('wo.state_label')}}</th><th>{{_('wo.initial')}}</th><th>{{_('wo.final')}}</th><th>{{_('wo.limit_minutes')}}</th></tr></thead>
    <tbody>
    % states = list(t['states']) + [{}] * blank['states']
    % for i, s in enumerate(states):
      <tr><td><input name="state_name_{{i}}" value="{{s.get('name', '')}}" maxlength="32" aria-label="{{_('wo.state_name')}}" translate="no"></td>
        <td><input name="state_label_{{i}}" value="{{s.get('label', '')}}" maxlength="64" aria-label="{{_('wo.state_label')}}"></td>
        <td><input type="radio" name="initial" value="{{i}}" {{'checked' if s.get('initial') else ''}} aria-label="{{_('wo.initial')}}"></td>
        <td><input type="checkbox" name="state_final_{{i}}" value="1" {{'checked' if s.get('final') else ''}} aria-label="{{_('wo.final')}}"></td>
        <td><input name="state_limit_{{i}}" type="number" min="0" max="525600" value="{{s.get('limit_minutes', '')}}" aria-label="{{_('wo.limit_minutes')}}"></td></tr>
    % end
    </tbody>
  </table>
  <h2>{{_('wo.transitions')}}</h2>
  <datalist id="state-names">
  % for s in t['states']:
    <option value="{{s.get('name', '')}}">{{s.get('label', '')}}</option>
  % end
  </datalist>
  <table class="list" id="transitions">
    <thead><tr><th>{{_('wo.from')}}</th><th></th><th>{{_('wo.to')}}</th></tr></thead>
    <tbody>
    % pairs = list(t['transitions']) + [['', '']] * blank['transitions']
    % for i, (a, b) in enumerate(pairs):
      <tr><td><input name="tr_from_{{i}}" value="{{a}}" maxlength="32" list="state-names" aria-label="{{_('wo.from')}}" translate="no"></td><td>→</td>
        <td><input name="tr_to_{{i}}" value="{{b}}" maxlength="32" list="state-names" aria-label="{{_('wo.to')}}" translate="no"></td></tr>
    % end
    </tbody>
  </table>
  <h2>{{_('wo.fields')}}</h2>
  <p class="hint">{{_('wo.fields_help')}}</p>
  <table class="list" id="fields">
    <thead><tr><th>{{_('wo.field_name')}}</th><th>{{_('wo.field_label')}}</th><th>{{_('wo.field_type')}}</th><th>{{_('wo.field_required')}}</th><th>{{_('wo.field_choices')}}</th></tr></thead>
    <tbody>
    % fields = list(t['fields']) + [{}] * blank['fields']
    % for i, f in enumerate(fields):
      <tr><td><input name="f_name_{{i}}" value="{{f.get('name', '')}}" maxlength="32" aria-label="{{_('wo.field_name')}}" translate="no"></td>
        <td><input name="f_label_{{i}}" value="{{f.get('label', '')}}" maxlength="64" aria-label="{{_('wo.field_label')}}"></td>
        <td><select name="f_type_{{i}}" aria-label="{{_('wo.field_type')}}">
        % for ft in ('text', 'number', 'date', 'choice'):
          <option value="{{ft}}" {{'selected' if f.get('type') == ft else ''}}>{{_('wo.field_type.' + ft)}}</option>
        % end
        </select></td>
        <td><input type="checkbox" name="f_required_{{i}}" value="1" {{'checked' if f.get('required') else ''}} aria-label="{{_('wo.field_required')}}"></td>
        <td><input name="f_choices_{{i}}" value="{{f.get('choices', '')}}" maxlength="1000" aria-label="{{_('wo.field_choices')}}"></td></tr>
    % end
    </tbody>
  </table>
  <p><button class="primary">{{_('wo.save_type')}}</button></p>
</form>
