% # The inputs of a configuration form (create and edit): one per field of the kind, the
% # error next to the field, and after a conflicting save what the user had typed (``mine``).
    % for f in fields:
    % v = values.get(f.name, f.default)
    % fid = 'f-' + f.name
    <div class="field {{'has-error' if f.name in errors else ''}} {{'check' if f.type == 'bool' else ''}}">
      <label for="{{fid}}">{{_('field.' + kind + '.' + f.name)}}{{' *' if f.required else ''}}</label>
      % if f.type == 'bool':
      <input type="checkbox" id="{{fid}}" name="{{f.name}}" {{'checked' if v else ''}}>
      % elif f.type == 'ref':
      <select id="{{fid}}" name="{{f.name}}">
        <option value="">{{_('admin.none')}}</option>
        % for option in refs.get(f.name, []):
        <option value="{{option}}" {{'selected' if option == v else ''}}>{{option}}</option>
        % end
      </select>
      % elif f.choices:
      <select id="{{fid}}" name="{{f.name}}">
        % for c in f.choices:
        <option value="{{c}}" {{'selected' if c == v else ''}}>{{choice(kind, f.name, c)}}</option>
        % end
      </select>
      % elif f.type == 'int':
      <input type="number" id="{{fid}}" name="{{f.name}}" value="{{'' if v is None else v}}" {{!'min="%d"' % f.min if f.min is not None else ''}} {{!'max="%d"' % f.max if f.max is not None else ''}}>
      % else:
      <input type="{{'password' if f.secret else 'text'}}" id="{{fid}}" name="{{f.name}}" value="{{'' if (v is None or f.secret) else v}}" {{!'maxlength="%d"' % f.max_length if f.max_length else ''}} {{'autocomplete=new-password' if f.secret else ''}}>
      % end
      % if f.name in mine:
      <small class="hint yours">{{_('admin.your_value', value=mine[f.name])}}</small>
      % end
      % if f.name in errors:
      <em class="field-error">{{field_error(errors[f.name], 'help.' + kind + '.' + f.name if f.help else None)}}</em>
      % elif f.help:
      <small class="hint">{{_('help.' + kind + '.' + f.name)}}</small>
      % end
    </div>
    % end
    % for name in errors:
    % if name not in [f.name for f in fields]:
    <p class="alert wide">{{name}}: {{field_error(errors[name])}}</p>
    % end
    % end
