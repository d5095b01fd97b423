% # The settings of the modes without agents and of answering-machine detection (services/agentless.py).
% a = c or {}
% def pick(key, default):
%   return v.get(key, a.get(key, default))
% end
% def prompt_label(p):
%   return p.get('display_name') or p['name']
% end
  <div class="wide section-head" id="c-agentless"><h3>{{_('campaigns.agentless.title')}}</h3>
    <p class="hint">{{_('campaigns.agentless.help')}}</p></div>
  <div class="field"><label for="c-language">{{_('campaigns.agentless.language')}}</label>
    <select id="c-language" name="language">
    % for code in ('zh_CN', 'en'):
      <option value="{{code}}" {{'selected' if pick('language', 'zh_CN') == code else ''}}>{{_('campaigns.agentless.language.' + code)}}</option>
    % end
    </select></div>
  <div class="field {{'has-error' if 'prompt' in errors else ''}}"><label for="c-prompt">{{_('campaigns.agentless.prompt')}}</label>
    <select id="c-prompt" name="prompt"><option value="">—</option>
    % for p in prompts:
      <option value="{{p['name']}}" {{'selected' if pick('prompt', '') == p['name'] else ''}}>{{prompt_label(p)}}</option>
    % end
    </select>
    % if 'prompt' in errors:
    <em class="field-error">{{field_error(errors['prompt'])}}</em>
    % end
    <small class="hint">{{_('campaigns.agentless.prompt_help')}}</small></div>
  <div class="field {{'has-error' if 'press_key' in errors else ''}}"><label for="c-key">{{_('campaigns.agentless.press_key')}}</label>
    <select id="c-key" name="press_key">
    % for key in '1234567890':
      <option value="{{key}}" {{'selected' if pick('press_key', '1') == key else ''}}>{{key}}</option>
    % end
    </select>
    % if 'press_key' in errors:
    <em class="field-error">{{field_error(errors['press_key'])}}</em>
    % end
    <small class="hint">{{_('campaigns.agentless.press_key_help')}}</small></div>
  <fieldset class="field wide {{'has-error' if 'spoken' in errors else ''}}" id="c-spoken"><legend>{{_('campaigns.agentless.spoken')}}</legend>
    <div class="pairs">
    % spoken = pick('spoken', [])
    % for i in range(max_spoken):
    %   item = spoken[i] if i < len(spoken) else {}
      <div class="pair"><input name="spoken_column" id="c-spoken-{{i}}" maxlength="64" placeholder="{{_('campaigns.agentless.column')}}" aria-label="{{_('campaigns.agentless.column')}}" value="{{item.get('column', '')}}">
        <select name="spoken_as" id="c-spoken-as-{{i}}" aria-label="{{_('campaigns.agentless.said_as')}}">
        % for how in hows:
          <option value="{{how}}" {{'selected' if item.get('as') == how else ''}}>{{_('campaigns.agentless.as.' + how)}}</option>
        % end
        </select></div>
    % end
    </div>
    % if 'spoken' in errors:
    <em class="field-error">{{field_error(errors['spoken'])}}</em>
    % end
    <small class="hint">{{_('campaigns.agentless.spoken_help')}}</small></fieldset>
  <fieldset class="field wide {{'has-error' if 'questions' in errors else ''}}" id="c-questions"><legend>{{_('campaigns.agentless.questions')}}</legend>
    <div class="pairs">
    % questions = pick('questions', [])
    % for i in range(min(max_questions, max(4, len(questions) + 1))):
      <select name="questions" id="c-question-{{i}}" aria-label="{{_('campaigns.agentless.question', n=i + 1)}}"><option value="">{{_('campaigns.agentless.question', n=i + 1)}}: —</option>
      % for p in prompts:
        <option value="{{p['name']}}" {{'selected' if i < len(questions) and questions[i] == p['name'] else ''}}>{{_('campaigns.agentless.question', n=i + 1)}}: {{prompt_label(p)}}</option>
      % end
      </select>
    % end
    </div>
    % if 'questions' in errors:
    <em class="field-error">{{field_error(errors['questions'])}}</em>
    % end
    <small class="hint">{{_('campaigns.agentless.questions_help')}}</small></fieldset>
  <div class="wide section-head" id="c-amd"><h3>{{_('campaigns.agentless.amd_title')}}</h3>
    <p class="hint">{{_('campaigns.agentless.amd_help')}}</p></div>
  <div class="field"><label class="check"><input type="checkbox" name="amd" id="c-amd-on" {{'checked' if pick('amd', False) else ''}}> {{_('campaigns.agentless.amd')}}</label></div>
  <div class="field {{'has-error' if 'amd_action' in errors else ''}}"><label for="c-amd-action">{{_('campaigns.agentless.amd_action')}}</label>
    <select id="c-amd-action" name="amd_action">
    % for action in amd_actions:
      <option value="{{action}}" {{'selected' if pick('amd_action', 'hangup') == action else ''}}>{{_('campaigns.agentless.amd_action.' + action)}}</option>
    % end
    </select>
    % if 'amd_action' in errors:
    <em class="field-error">{{field_error(errors['amd_action'])}}</em>
    % end
  </div>
