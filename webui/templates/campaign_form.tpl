% local_input = lambda x: when(x).replace(' ', 'T') if x else ''
% v = values if values is not None else {}
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  % if c:
  <input type="hidden" name="updated_at" value="{{c['updated_at']}}">
  % else:
  <div class="field {{'has-error' if 'name' in errors else ''}}"><label for="c-name">{{_('campaigns.key')}} *</label>
    <input id="c-name" name="name" maxlength="32" required pattern="[a-z0-9][a-z0-9_\-]{0,31}" value="{{v.get('name', '')}}">
    % if 'name' in errors:
    <em class="field-error">{{field_error(errors['name'])}}</em>
    % else:
    <small class="hint">{{_('calllists.key_hint')}}</small>
    % end
  </div>
  % end
  <div class="field"><label for="c-display">{{_('campaigns.display_name')}}</label>
    <input id="c-display" name="display_name" maxlength="64" value="{{v.get('display_name', c['display_name'] if c else '')}}"></div>
  <div class="field {{'has-error' if 'mode' in errors else ''}}"><label for="c-mode">{{_('campaigns.mode')}}</label>
    <select id="c-mode" name="mode">
    % chosen_mode = v.get('mode', c['mode'] if c else 'preview')
    % for mode in modes:
      <option value="{{mode}}" {{'selected' if mode == chosen_mode else ''}}>{{_('campaigns.mode.' + mode)}}</option>
    % end
    </select>
    <small class="hint" id="c-mode-help">{{_('campaigns.modes_help')}}</small></div>
  <div class="field {{'has-error' if 'queue' in errors else ''}}"><label for="c-queue">{{_('campaigns.queue')}}</label>
    <select id="c-queue" name="queue"><option value="">—</option>
    % chosen_q = v.get('queue', c['queue'] if c else '')
    % for q in queues:
      <option value="{{q['name']}}" {{'selected' if chosen_q == q['name'] else ''}}>{{q.get('display_name') or q['name']}}</option>
    % end
    </select>
    % if 'queue' in errors:
    <em class="field-error">{{field_error(errors['queue'])}}</em>
    % end
  </div>
  <div class="field {{'has-error' if 'agents' in errors else ''}}"><label for="c-agents">{{_('campaigns.agents')}}</label>
    <input id="c-agents" name="agents" maxlength="500" value="{{v.get('agents', ', '.join(c['agents']) if c else '')}}">
    % if 'agents' in errors:
    <em class="field-error">{{field_error(errors['agents'])}}</em>
    % else:
    <small class="hint">{{_('calllists.agents_hint')}}</small>
    % end
  </div>
  <fieldset class="field" id="c-lists"><legend>{{_('campaigns.lists')}}</legend>
  % chosen_l = v.get('lists', [l['id'] for l in c['lists']] if c else [])
  % for l in all_lists:
    <label class="check"><input type="checkbox" name="lists" value="{{l['id']}}" {{'checked' if l['id'] in chosen_l else ''}}> {{l['display_name']}}</label>
  % end
  % if not all_lists:
    <p class="hint"><a href="/calllists">{{_('campaigns.no_lists_yet')}}</a></p>
  % end
  </fieldset>
  <div class="field {{'has-error' if 'start_at' in errors else ''}}"><label for="c-start">{{_('campaigns.start_at')}}</label>
    <input id="c-start" name="start_at" type="datetime-local" value="{{v.get('start_at', local_input(c['start_at']) if c else '')}}">
    % if 'start_at' in errors:
    <em class="field-error">{{field_error(errors['start_at'])}}</em>
    % end
  </div>
  <div class="field {{'has-error' if 'stop_at' in errors else ''}}"><label for="c-stop">{{_('campaigns.stop_at')}}</label>
    <input id="c-stop" name="stop_at" type="datetime-local" value="{{v.get('stop_at', local_input(c['stop_at']) if c else '')}}">
    % if 'stop_at' in errors:
    <em class="field-error">{{field_error(errors['stop_at'])}}</em>
    % end
  </div>
  <div class="field"><label class="check"><input type="checkbox" name="auto_next" id="c-auto" {{'checked' if v.get('auto_next', c['auto_next'] if c else True) else ''}}> {{_('campaigns.auto_next')}}</label>
    <small class="hint">{{_('campaigns.auto_next_help')}}</small></div>
  <div class="field wide"><label for="c-script">{{_('campaigns.script')}}</label>
    <textarea id="c-script" name="script" rows="6" maxlength="20000">{{v.get('script', c['script'] if c else '')}}</textarea></div>
  <fieldset class="field wide" id="c-dialer"><legend>{{_('campaigns.dialer.settings')}}</legend>
    <p class="hint">{{_('campaigns.dialer.settings_help')}}</p>
    <div class="dial-fields">
    % for key, low, high, kind in dial_fields:
    <div class="field {{'has-error' if key in errors else ''}}"><label for="c-{{key}}">{{_('campaigns.dialer.' + key)}}</label>
      <input id="c-{{key}}" name="{{key}}" type="number" min="{{low}}" max="{{high}}" step="{{'0.1' if kind is float else '1'}}" required value="{{v.get(key, c[key] if c else defaults[key])}}">
      % if key in errors:
      <em class="field-error">{{field_error(errors[key])}}</em>
      % end
    </div>
    % end
    <div class="field {{'has-error' if 'callerid_pool' in errors else ''}}"><label for="c-callerid_pool">{{_('campaigns.dialer.callerid_pool')}}</label>
      % chosen_pool = v.get('callerid_pool', c['callerid_pool'] if c else '')
      <select id="c-callerid_pool" name="callerid_pool"><option value="">{{_('campaigns.dialer.no_pool')}}</option>
      % for pool in pools:
        <option value="{{pool}}" {{'selected' if pool == chosen_pool else ''}}>{{pool}}</option>
      % end
      </select>
      % if 'callerid_pool' in errors:
      <em class="field-error">{{field_error(errors['callerid_pool'])}}</em>
      % end
    </div>
    </div>
  </fieldset>
  % include('campaign_agentless.tpl')
