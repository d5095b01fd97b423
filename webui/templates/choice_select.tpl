% # A select of what exists (ConfigService.choices): (value, display name, group) options,
% # in groups.  With ``action_from`` (the id of an action select) the groups are a voice
% # menu's actions and app.js offers only the group of the action chosen; ``action`` is the
% # action of the value ``current``.
<select id="{{sid}}" name="{{name}}" {{!'data-action-from="%s"' % action_from if action_from else ''}}>
  % if empty:
  <option value="">{{_('admin.none')}}</option>
  % end
  % if current and current not in [o[0] for o in options]:
  <option value="{{current}}" selected translate="no">{{current}}</option>
  % end
  % group = None
  % for value, label, g in options:
  % if g != group:
  % if group:
  </optgroup>
  % end
  % if g:
  <optgroup label="{{_('menus.action.' + g) if action_from else _('config.group.' + g)}}" data-action="{{g}}">
  % end
  % group = g
  % end
  % # names (an object's display name, a time zone's id) are data, not words to translate
  <option value="{{value}}" {{'selected' if value == current and (not action_from or g == action) else ''}}{{!' translate="no"' if g == 'all' or (label != value and g != 'common') else ''}}>{{_('config.tz.' + value) if g == 'common' else (choice(kind, name, value) if label == value else label + ' (' + value + ')')}}</option>
  % end
  % if group:
  </optgroup>
  % end
</select>
