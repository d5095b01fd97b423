% # The inputs of a configuration form (create and edit): one per field of the kind, the
% # error next to the field, and after a conflicting save what the user had typed (``mine``).
% # ``refs``: field name -> (value, display name, group) of what exists (ConfigService.choices).
% plays = False
    % for f in fields:
    % v = values.get(f.name, f.default)
    % fid = 'f-' + f.name
    <div class="field {{'has-error' if f.name in errors else ''}} {{'check' if f.type == 'bool' else ''}} {{'wide' if f.options == 'week' else ''}}">
      <label for="{{fid}}">{{_('field.' + kind + '.' + f.name)}}{{' *' if f.required else ''}}</label>
      % if f.type == 'bool':
      <input type="checkbox" id="{{fid}}" name="{{f.name}}" {{'checked' if v else ''}}>
      % elif f.type == 'ref' or f.name in refs:
      % options = refs.get(f.name, [])
      % paired = f.name.replace('_target', '_action') if f.options == 'menu_targets' else ''
      <span class="picker">
      % include('choice_select.tpl', sid=fid, name=f.name, options=options, current=v, empty=f.type == 'ref' or f.options in ('prompts', 'menu_targets'), action_from='f-' + paired if paired else '', action=values.get(paired, ''))
      % if f.ref_kind == 'prompts' or f.options == 'prompts':
      % plays = True
      <button type="button" class="small play-prompt" data-for="{{fid}}" data-unplayable="{{_('config.not_playable')}}">▶ {{_('config.play')}}</button>
      % end
      </span>
      % elif f.choices:
      <select id="{{fid}}" name="{{f.name}}">
        % for c in f.choices:
        <option value="{{c}}" {{'selected' if c == v else ''}}>{{choice(kind, f.name, c)}}</option>
        % end
      </select>
      % elif f.list_of:
      % chosen = [x.strip() for x in str(v or '').split(',') if x.strip()]
      <span class="checks" id="{{fid}}" role="group" aria-label="{{_('field.' + kind + '.' + f.name)}}"><input type="hidden" name="{{f.name}}" value="">
        % for c in chosen + [c for c in f.list_of if c not in chosen]:
        <label class="inline-check"><input type="checkbox" name="{{f.name}}" value="{{c}}" {{'checked' if c in chosen else ''}}> {{c}}</label>
        % end
      </span>
      % elif f.options == 'week':
      % grid = week_of(v)
      <table class="week" id="{{fid}}">
        <thead><tr><th></th><th>{{_('config.week.period', n=1)}}</th><th>{{_('config.week.period', n=2)}}</th></tr></thead>
        <tbody>
        % for day in week_days:
        % pairs = list(grid.get(day, [])) if grid else []
        % pairs += [('', '')] * max(0, 2 - len(pairs))
        <tr><th scope="row">{{_('config.day.' + day)}}</th>
          % for n, (start, end) in enumerate(pairs):
          <td><input type="time" name="{{f.name}}.{{day}}.{{n}}.from" value="{{start}}" aria-label="{{_('config.day.' + day)}} {{_('config.week.from')}} {{n + 1}}">
            – <input type="time" name="{{f.name}}.{{day}}.{{n}}.to" value="{{end}}" aria-label="{{_('config.day.' + day)}} {{_('config.week.to')}} {{n + 1}}"></td>
          % end
        </tr>
        % end
        </tbody>
      </table>
      % if v and not grid:
      <small class="hint">{{_('config.week.unreadable', text=v)}}</small>
      % end
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
    % if plays:
    <script src="/static/player.js"></script>
    % end
