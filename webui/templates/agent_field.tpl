% # One input of the new-agent form: label, the value typed (never a password), its error or hint.
    <div class="field {{'has-error' if name in errors else ''}}">
      <label for="a-{{name}}">{{_('agents.field.' + name)}}{{' *' if required else ''}}</label>
      <input type="{{kind}}" id="a-{{name}}" name="{{name}}" value="{{'' if kind == 'password' else value}}" {{!'autocomplete="new-password"' if kind == 'password' else ''}}>
      % if name in errors:
      <em class="field-error">{{field_error(errors[name])}}</em>
      % else:
      <small class="hint">{{_('agents.hint.' + name)}}</small>
      % end
    </div>
