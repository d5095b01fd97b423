% rebase('base.tpl', title=_('scripts.editor'))
% include('config_tabs.tpl')
<p class="crumbs"><a href="/admin/scripts">{{_('scripts.title')}}</a> › {{s['label'] or _('scripts.new')}}</p>
<h1>{{s['label'] or _('scripts.new')}}</h1>
% if problem:
<div class="alert" role="alert" id="problem"><p>{{error_message(problem['code'], problem['status'], problem.get('params'))}}</p>
  % if problem.get('fields'):
  <ul>
  % for name, err in problem['fields'].items():
    <li>{{_('scripts.' + name) if name in ('name', 'label', 'steps', 'queues', 'campaigns') else name}}: {{field_error(err)}}</li>
  % end
  </ul>
  % end
</div>
% end
<form method="post" action="/admin/scripts/{{script_id if script_id else 'new'}}" class="card" id="script-form">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <div class="grid">
    <div class="field"><label for="s-label">{{_('scripts.label')}} *</label><input id="s-label" name="label" maxlength="64" value="{{s['label']}}"></div>
    <div class="field"><label for="s-name">{{_('scripts.name')}} *</label><input id="s-name" name="name" maxlength="32" value="{{s['name']}}" translate="no">
      <small class="hint">{{_('scripts.name_help')}}</small></div>
    <div class="field"><label><input type="checkbox" name="active" value="1" {{'checked' if s['active'] else ''}}> {{_('scripts.active')}}</label></div>
  </div>

  <h2>{{_('scripts.steps')}}</h2>
  <p class="hint">{{_('scripts.steps_help')}}</p>
  <datalist id="step-ids">
  % for st in s['steps']:
    <option value="{{st.get('id', '')}}">
  % end
  </datalist>
  <table class="list" id="steps">
    <thead><tr><th>{{_('scripts.step_id')}}</th><th>{{_('scripts.text_zh')}}</th><th>{{_('scripts.text_en')}}</th>
      <th>{{_('scripts.question')}}</th><th>{{_('scripts.next_step')}}</th></tr></thead>
    <tbody>
    % steps = list(s['steps']) + [{}] * blank['steps']
    % for i, st in enumerate(steps):
      % text = st.get('text') or {}
      <tr><td><input name="step_id_{{i}}" value="{{st.get('id', '')}}" maxlength="32" size="10" aria-label="{{_('scripts.step_id')}}" translate="no"></td>
        <td><textarea name="step_zh_{{i}}" rows="2" maxlength="2000" aria-label="{{_('scripts.text_zh')}}" lang="zh-CN">{{text.get('zh_CN', '')}}</textarea></td>
        <td><textarea name="step_en_{{i}}" rows="2" maxlength="2000" aria-label="{{_('scripts.text_en')}}" lang="en">{{text.get('en', '')}}</textarea></td>
        <td><select name="step_field_{{i}}" aria-label="{{_('scripts.question')}}">
          <option value="">{{_('scripts.no_question')}}</option>
        % for f in fields:
          <option value="{{f.name}}" {{'selected' if st.get('field') == f.name else ''}}>{{f.label}} ({{_('wo.field_type.' + f.type)}})</option>
        % end
        </select></td>
        <td><input name="step_next_{{i}}" value="{{st.get('next', '')}}" maxlength="32" size="10" list="step-ids" aria-label="{{_('scripts.next_step')}}" translate="no"></td></tr>
    % end
    </tbody>
  </table>

  <h2>{{_('scripts.branches')}}</h2>
  <p class="hint">{{_('scripts.branches_help')}}</p>
  <table class="list" id="branches">
    <thead><tr><th>{{_('scripts.step_id')}}</th><th>{{_('scripts.answer')}}</th><th></th><th>{{_('scripts.next_step')}}</th></tr></thead>
    <tbody>
    % rows = [(st.get('id', ''), b) for st in s['steps'] for b in st.get('branches') or []] + [('', {})] * blank['branches']
    % for i, (sid, b) in enumerate(rows):
      <tr><td><input name="br_step_{{i}}" value="{{sid}}" maxlength="32" size="10" list="step-ids" aria-label="{{_('scripts.step_id')}}" translate="no"></td>
        <td><input name="br_answer_{{i}}" value="{{b.get('answer', '')}}" maxlength="200" aria-label="{{_('scripts.answer')}}"></td><td>→</td>
        <td><input name="br_next_{{i}}" value="{{b.get('next', '')}}" maxlength="32" size="10" list="step-ids" aria-label="{{_('scripts.next_step')}}" translate="no"></td></tr>
    % end
    </tbody>
  </table>

  <h2>{{_('scripts.read_on')}}</h2>
  <p class="hint">{{_('scripts.read_on_help')}}</p>
  <fieldset id="s-queues"><legend>{{_('scripts.queues')}}</legend>
  % for name, shown in queues:
    <label><input type="checkbox" name="queues" value="{{name}}" {{'checked' if name in s['queues'] else ''}}> {{shown}}
      % if ('queue', name) in taken:
      <small class="muted">{{_('scripts.now_uses', script=taken[('queue', name)])}}</small>
      % end
    </label>
  % end
  % if not queues:
    <span class="muted">—</span>
  % end
  </fieldset>
  <fieldset id="s-campaigns"><legend>{{_('scripts.campaigns')}}</legend>
  % for name, shown in campaigns:
    <label><input type="checkbox" name="campaigns" value="{{name}}" {{'checked' if name in s['campaigns'] else ''}}> {{shown}}
      % if ('campaign', name) in taken:
      <small class="muted">{{_('scripts.now_uses', script=taken[('campaign', name)])}}</small>
      % end
    </label>
  % end
  % if not campaigns:
    <span class="muted">—</span>
  % end
  </fieldset>
  <p><button class="primary">{{_('scripts.save')}}</button></p>
</form>
