% rebase('base.tpl', title=_('wo.new'))
<p class="crumbs"><a href="/workorders">{{_('nav.workorders')}}</a> › {{_('wo.new')}}</p>
<h1>{{_('wo.new')}}</h1>
% include('workorder_problem.tpl', problem=problem)
% if not types:
<p class="notice">{{_('wo.no_types')}}</p>
% elif chosen is None:
<section class="card"><h2>{{_('wo.choose_type')}}</h2>
  <ul id="type-choice">
  % for t in types:
    <li><a href="/workorders/new?type={{t['id']}}&customer={{data.get('customer', '')}}&linkedid={{data.get('linkedid', '')}}&voice_message={{data.get('voice_message', '')}}&source={{data.get('source', '')}}">{{t['label']}}</a></li>
  % end
  </ul></section>
% else:
<form method="post" action="/workorders/new" class="card grid" id="new-order">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <input type="hidden" name="type" value="{{chosen['id']}}">
  <input type="hidden" name="customer" value="{{data.get('customer', '')}}">
  <input type="hidden" name="linkedid" value="{{data.get('linkedid', '')}}">
  <input type="hidden" name="voice_message" value="{{data.get('voice_message', '')}}">
  <input type="hidden" name="source" value="{{data.get('source', '')}}">
  <p class="wide">{{_('wo.type')}}: <strong>{{chosen['label']}}</strong>
  % if customer:
   · {{_('wo.customer')}}: <a href="/customers/{{customer['id']}}" id="wo-customer">{{customer['name']}}</a>
  % end
  % if data.get('linkedid'):
   · {{_('wo.call')}}: <a href="/calls/{{data['linkedid']}}" translate="no">{{data['linkedid']}}</a>
  % end
  </p>
  <div class="field wide"><label for="wo-title">{{_('wo.title')}} *</label>
    <input id="wo-title" name="title" maxlength="200" required value="{{data.get('title', '')}}"></div>
  <div class="field"><label for="wo-priority">{{_('wo.priority')}}</label>
    <select id="wo-priority" name="priority">
    % for p in chosen['priorities']:
      <option value="{{p}}" {{'selected' if data.get('priority') == p or (not data.get('priority') and p == chosen['priorities'][min(1, len(chosen['priorities']) - 1)]) else ''}}>{{label('wo_priority', p)}}</option>
    % end
    </select></div>
  % for f in chosen['fields']:
  <div class="field"><label for="wo-f-{{f['name']}}">{{f['label']}}{{' *' if f['required'] else ''}}</label>
    % value = (data.get('custom') or {}).get(f['name']) or ''
    % if f['type'] == 'choice':
    <select id="wo-f-{{f['name']}}" name="custom.{{f['name']}}"><option value=""></option>
      % for c in [c.strip() for c in f['choices'].split(',') if c.strip()]:
      <option {{'selected' if value == c else ''}}>{{c}}</option>
      % end
    </select>
    % else:
    <input id="wo-f-{{f['name']}}" name="custom.{{f['name']}}" value="{{value}}" type="{{'date' if f['type'] == 'date' else 'text'}}">
    % end
  </div>
  % end
  % if staff:
  % include('workorder_assignee.tpl', data=data)
  % end
  <div class="field wide"><label for="wo-note">{{_('wo.note')}}</label>
    <textarea id="wo-note" name="note" maxlength="2000">{{data.get('note', '')}}</textarea></div>
  <p class="wide"><button class="primary">{{_('wo.open_it')}}</button></p>
</form>
% end
