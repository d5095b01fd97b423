% # The customer's fields as form inputs; errors next to each field, what was typed kept.
% cur = customer or {}
% for f in fields:
% if f.name == 'pin' and not staff:
% continue
% end
% v = values.get(f.name, ', '.join(cur.get('tags') or []) if f.name == 'tags' else cur.get(f.name, f.default))
% fid = 'c-' + f.name
<div class="field {{'has-error' if f.name in errors else ''}}">
  <label for="{{fid}}">{{_('field.customers.' + f.name)}}{{' *' if f.required else ''}}</label>
  <input type="{{'password' if f.secret else 'text'}}" id="{{fid}}" name="{{f.name}}" value="{{'' if (v is None or f.secret) else v}}" maxlength="{{f.max_length}}" {{'autocomplete=new-password' if f.secret else ''}} {{'inputmode=tel' if f.name == 'phone' else ''}}>
  % if f.name in errors:
  <em class="field-error">{{field_error(errors[f.name])}}</em>
  % elif f.help:
  <small class="hint">{{_('help.customers.' + f.name)}}</small>
  % end
</div>
% end
% if staff:
% v = values.get('account_manager', cur.get('account_manager'))
<div class="field {{'has-error' if 'account_manager' in errors else ''}}">
  <label for="c-account_manager">{{_('field.customers.account_manager')}}</label>
  <select id="c-account_manager" name="account_manager">
    <option value="">{{_('crm.nobody')}}</option>
    % for a in agents:
    <option value="{{a['number']}}" {{'selected' if a['number'] == v else ''}}>{{a['number']}} {{a['name']}}</option>
    % end
  </select>
  % if 'account_manager' in errors:
  <em class="field-error">{{field_error(errors['account_manager'])}}</em>
  % else:
  <small class="hint">{{_('help.customers.account_manager')}}</small>
  % end
</div>
% end
% custom_values = (values.get('custom') or {}) if values else (cur.get('custom') or {})
% for c in custom_fields:
% key = 'custom.' + c.name
% v = custom_values.get(c.name)
% fid = 'c-custom-' + c.name
<div class="field {{'has-error' if key in errors else ''}}">
  <label for="{{fid}}">{{c.label}}{{' *' if c.required else ''}}</label>
  % if c.type == 'choice':
  <select id="{{fid}}" name="{{key}}">
    <option value="">{{_('admin.none')}}</option>
    % for option in c.choices:
    <option value="{{option}}" {{'selected' if option == v else ''}}>{{option}}</option>
    % end
  </select>
  % else:
  <input type="{{'date' if c.type == 'date' else 'text'}}" id="{{fid}}" name="{{key}}" value="{{'' if v is None else v}}" {{'inputmode=decimal' if c.type == 'number' else ''}}>
  % end
  % if key in errors:
  <em class="field-error">{{field_error(errors[key])}}</em>
  % end
</div>
% end
% for name in errors:
% if name not in [f.name for f in fields] and name != 'account_manager' and not name.startswith('custom.'):
<p class="alert wide">{{name}}: {{field_error(errors[name])}}</p>
% end
% end
