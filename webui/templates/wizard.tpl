% rebase('base.tpl', title=_('setup.title'))
% # The first-run wizard: one step a page (webui/areas/wizard.py, appliance/services/site.py).
% names = list(steps) + ['finish']
% label = lambda s: _('wizard.step.' + s) if s == 'agents' else _('setup.step.' + s)
% endonyms = {'zh_CN': '中文（简体）', 'en': 'English'}  # as on the account page: each in its own language
<div class="page-head"><h1>{{_('setup.title')}}</h1><span class="muted">{{_('setup.intro')}}</span></div>
<ol class="wizard-steps">
% for i, s in enumerate(names):
  % done = s != 'finish' and state['steps'][s]
  <li class="{{'on' if s == step else ''}} {{'done' if done else ''}}">
    % if done or s == state['next'] or s == step:
    <a href="/setup/{{s}}">{{i + 1}}. {{label(s)}}</a>
    % else:
    <span>{{i + 1}}. {{label(s)}}</span>
    % end
    % if done == 'skipped':
    <small class="muted">({{_('setup.skipped')}})</small>
    % end
  </li>
% end
</ol>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
<section class="card wizard">
% if step == 'password':
  <h2>{{_('setup.password.title')}}</h2>
  <p class="muted">{{_('setup.password.intro')}}</p>
  <form method="post" action="/setup/password" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % for name, label in (('password', 'setup.password.new'), ('confirm', 'setup.password.confirm')):
    <div class="field {{'has-error' if name in errors else ''}}">
      <label for="s-{{name}}">{{_(label)}} *</label>
      <input type="password" id="s-{{name}}" name="{{name}}" autocomplete="new-password">
      % if name in errors:
      <em class="field-error">{{field_error(errors[name])}}</em>
      % end
    </div>
    % end
    <div class="buttons"><button class="primary">{{_('setup.save_next')}}</button></div>
  </form>
% elif step == 'region':
  <h2>{{_('setup.region.title')}}</h2>
  <p class="muted">{{_('setup.region.intro')}}</p>
  <form method="post" action="/setup/region" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field {{'has-error' if 'timezone' in errors else ''}}">
      <label for="s-timezone">{{_('setup.region.timezone')}} *</label>
      <input id="s-timezone" name="timezone" list="s-timezones" value="{{values.get('timezone', state['timezone'])}}" autocomplete="off">
      <datalist id="s-timezones">
      % for z in timezones:
        <option value="{{z}}">
      % end
      </datalist>
      % if 'timezone' in errors:
      <em class="field-error">{{field_error(errors['timezone'])}}</em>
      % else:
      <small class="hint">{{_('setup.region.timezone_hint')}}</small>
      % end
    </div>
    <div class="field {{'has-error' if 'language' in errors else ''}}">
      <label for="s-language">{{_('setup.region.language')}} *</label>
      <select id="s-language" name="language">
      % chosen = values.get('language') or state['language']
      % for code in languages:
        <option value="{{code}}" lang="{{code.replace('_', '-')}}" {{'selected' if code == chosen else ''}}>{{endonyms[code]}}</option>
      % end
      </select>
      % if 'language' in errors:
      <em class="field-error">{{field_error(errors['language'])}}</em>
      % end
    </div>
    <div class="field {{'has-error' if 'area_code' in errors else ''}}">
      <label for="s-area-code">{{_('setup.region.area_code')}}</label>
      <input id="s-area-code" name="area_code" inputmode="numeric" maxlength="6" value="{{values.get('area_code') if values.get('area_code') is not None else state['area_code']}}">
      % if 'area_code' in errors:
      <em class="field-error">{{field_error(errors['area_code'])}}</em>
      % else:
      <small class="hint">{{_('setup.region.area_code_hint')}}</small>
      % end
    </div>
    <div class="buttons"><button class="primary">{{_('setup.save_next')}}</button></div>
  </form>
% elif step in ('trunk', 'queue'):
  <h2>{{_('setup.' + step + '.title')}}</h2>
  <p class="muted">{{_('setup.' + step + '.intro')}}</p>
  <form method="post" action="/setup/{{step}}" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % include('config_fields.tpl')
    % if step == 'queue':
    <div class="field {{'has-error' if 'did' in errors else ''}}">
      <label for="s-did">{{_('setup.queue.did')}}</label>
      <input id="s-did" name="did" value="{{values.get('did', '')}}" maxlength="32">
      % if 'did' in errors:
      <em class="field-error">{{field_error(errors['did'])}}</em>
      % else:
      <small class="hint">{{_('setup.queue.did_hint')}}</small>
      % end
    </div>
    % end
    <div class="buttons">
      <button class="primary">{{_('setup.save_next')}}</button>
      <button name="skip" value="1" class="secondary">{{_('setup.skip')}}</button>
    </div>
  </form>
% elif step == 'agents':
  <h2>{{_('wizard.agents.title')}}</h2>
  % if made:
  <p>{{_('wizard.agents.made', n=len(made))}}</p>
  % include('agent_secrets.tpl', rows=made)
  <p><a class="button primary" href="/setup" id="wizard-agents-next">{{_('setup.save_next')}}</a></p>
  % else:
  <p class="muted">{{_('wizard.agents.intro_queue', queue=state['queue']) if state['queue'] else _('wizard.agents.intro')}}</p>
  % if state['agents']:
  <p>{{_('wizard.agents.already', extensions=', '.join(state['agents']))}}</p>
  % end
  <form method="post" action="/setup/agents" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <table class="list wizard-agents">
      <thead><tr><th>#</th><th>{{_('agents.field.display_name')}}</th><th>{{_('agents.field.extension')}}</th></tr></thead>
      <tbody>
      % for i in range(rows):
        <tr>
          <td class="muted">{{i + 1}}</td>
          % for name in ('display_name', 'extension'):
          % fid = name + '-' + str(i)
          <td class="field {{'has-error' if fid in errors else ''}}">
            <input id="w-{{fid}}" name="{{fid}}" value="{{values.get(fid, '')}}" aria-label="{{_('agents.field.' + name)}} {{i + 1}}" {{!'inputmode="numeric" maxlength="16"' if name == 'extension' else 'maxlength="64"'}}>
            % if fid in errors:
            <em class="field-error">{{field_error(errors[fid])}}</em>
            % end
          </td>
          % end
        </tr>
      % end
      </tbody>
    </table>
    % for name in errors:
    % if not name.startswith(('display_name-', 'extension-')):
    <p class="alert">{{field_error(errors[name])}}</p>
    % end
    % end
    <p class="hint">{{_('wizard.agents.hint')}}</p>
    <div class="buttons">
      <button class="primary">{{_('setup.save_next')}}</button>
      <button name="skip" value="1" class="secondary">{{_('setup.skip')}}</button>
    </div>
  </form>
  % end
% else:
  <h2>{{_('setup.finish.title')}}</h2>
  <dl class="summary">
    <dt>{{_('setup.step.password')}}</dt><dd>{{_('setup.finish.password_done') if state['steps']['password'] else _('setup.finish.missing')}}</dd>
    <dt>{{_('setup.region.timezone')}}</dt><dd>{{state['timezone']}}</dd>
    <dt>{{_('setup.region.language')}}</dt><dd>{{endonyms[state['language']]}}</dd>
    <dt>{{_('setup.region.area_code')}}</dt><dd>{{('0' + state['area_code']) if state['area_code'] else _('setup.finish.area_unset')}}</dd>
    <dt>{{_('setup.step.trunk')}}</dt><dd>{{state['trunk'] or _('setup.finish.later')}}</dd>
    <dt>{{_('setup.step.queue')}}</dt><dd>{{state['queue'] or _('setup.finish.later')}}{{(' ← ' + state['did']) if state['did'] else ''}}</dd>
    <dt>{{label('agents')}}</dt><dd>{{', '.join(state['agents']) or _('setup.finish.later')}}</dd>
  </dl>
  <p class="muted">{{_('setup.finish.next')}}</p>
  <form method="post" action="/setup/finish">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <button class="primary">{{_('setup.finish.button')}}</button>
  </form>
% end
</section>
