% rebase('base.tpl', title='#' + str(order['id']) + ' ' + order['title'])
<p class="crumbs"><a href="/workorders">{{_('nav.workorders')}}</a> › #{{order['id']}}</p>
<div class="page-head left">
  <h1>#{{order['id']}} {{order['title']}}</h1>
  <span class="flag {{'yes' if order['final'] else ''}}" id="wo-state">{{order['state_label']}}</span>
  % if order['overdue']:
  <span class="flag no">{{_('wo.overdue')}}</span>
  % end
  % if order['escalation_level']:
  <span class="flag no">{{_('wo.escalated.' + str(order['escalation_level']))}}</span>
  % end
  <a class="button small" href="/workorders/{{order['id']}}/sheet" id="wo-sheet">{{_('wo.sheet')}}</a>
</div>
% include('workorder_problem.tpl', problem=problem)
<div class="columns">
<section class="card" id="wo-facts">
  <h2>{{_('wo.details')}}</h2>
  <dl class="facts">
    <dt>{{_('wo.type')}}</dt><dd>{{order['type_label']}}</dd>
    <dt>{{_('wo.priority')}}</dt><dd>{{label('wo_priority', order['priority'])}}</dd>
    <dt>{{_('wo.source')}}</dt><dd>{{_('wo.source.' + order['source'])}}</dd>
    <dt>{{_('wo.customer')}}</dt><dd>
    % if order['customer']:
      <a href="/customers/{{order['customer']['id']}}">{{order['customer']['name']}}</a> {{order['customer']['phone']}}
    % else:
      —
    % end
    </dd>
    % if order['linkedid']:
    <dt>{{_('wo.call')}}</dt><dd><a href="/calls/{{order['linkedid']}}" id="wo-call" translate="no">{{order['linkedid']}}</a>
      % if order['recording']:
      · <a href="/recordings?q={{order['linkedid']}}" id="wo-recording">{{_('wo.recording')}}</a>
      % end
    </dd>
    % end
    % if order['voice_message']:
    <dt>{{_('wo.voice_message')}}</dt><dd><a href="/voicemail?state=all">#{{order['voice_message']}}</a></dd>
    % end
    <dt>{{_('wo.assignee')}}</dt><dd id="wo-assigned">{{_('wo.assignee_kind.' + order['assignee_kind']) + ' ' + order['assignee'] if order['assignee_kind'] else _('wo.nobody')}} {{order['engineer_contact']}}</dd>
    <dt>{{_('wo.created')}}</dt><dd>{{when(order['created_at'])}} · {{order['created_by']}}</dd>
    <dt>{{_('wo.due_at')}}</dt><dd>{{when(order['due_at']) if order['due_at'] else '—'}}</dd>
    % if order['closed_at']:
    <dt>{{_('wo.closed_at')}}</dt><dd>{{when(order['closed_at'])}}</dd>
    % end
    % for f in order['fields']:
    <dt>{{f['label']}}</dt><dd>{{order['custom'].get(f['name']) if order['custom'].get(f['name']) is not None else '—'}}</dd>
    % end
  </dl>
</section>
<section class="card" id="wo-actions">
  <h2>{{_('wo.move')}}</h2>
  % if order['next']:
  <form method="post" action="/workorders/{{order['id']}}/move" class="grid compact" id="wo-move">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field"><label for="wo-to">{{_('wo.to')}}</label>
      <select id="wo-to" name="to">
      % for n in order['next']:
        <option value="{{n['name']}}">{{n['label']}}</option>
      % end
      </select></div>
    <div class="field wide"><label for="wo-move-note">{{_('wo.note')}}</label>
      <textarea id="wo-move-note" name="note" maxlength="2000"></textarea></div>
    % if order['customer']:
    <div class="field"><label for="wo-callback">{{_('wo.call_back_at')}}</label>
      <input id="wo-callback" type="datetime-local" name="call_back_at">
      <small class="hint">{{_('wo.call_back_help')}}</small></div>
    % if call_lists:
    <div class="field"><label for="wo-call-list">{{_('wo.call_list')}}</label>
      <select id="wo-call-list" name="call_list"><option value="">{{_('wo.call_list_none')}}</option>
      % for c in call_lists:
        <option value="{{c['id']}}">{{c['display_name']}}</option>
      % end
      </select>
      <small class="hint">{{_('wo.call_list_help')}}</small></div>
    % end
    % end
    <p class="wide"><button class="primary">{{_('wo.move_it')}}</button></p>
  </form>
  % else:
  <p class="muted">{{_('wo.closed')}}</p>
  % end
  % if staff:
  <h2>{{_('wo.assign')}}</h2>
  <form method="post" action="/workorders/{{order['id']}}/assign" class="grid compact" id="wo-assign">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % include('workorder_assignee.tpl', data=order)
    <p class="wide"><button>{{_('wo.assign_it')}}</button></p>
  </form>
  % end
  <h2>{{_('wo.dispatch')}}</h2>
  <form method="post" action="/workorders/{{order['id']}}/dispatch" class="inline" id="wo-dispatch">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="wo-hours">{{_('wo.link_hours')}}</label>
    <input id="wo-hours" name="hours" type="number" min="1" max="336" value="72">
    <button>{{_('wo.make_link')}}</button>
  </form>
  % if link:
  <p class="notice" id="wo-link">{{_('wo.link_made', at=when(link['expires_at']))}}<br>
    <a href="{{link['url']}}" translate="no">{{link['url']}}</a></p>
  % end
</section>
</div>
% if order['customer']:
<section class="card" id="wo-mails">
  <h2>{{_('wo.mails')}}</h2>
  % if mailed:
  <p class="notice" role="status">{{_('crm.mail.queued')}}</p>
  % end
  % if mail_templates:
  <form method="post" action="/workorders/{{order['id']}}/mails" class="inline" id="wo-mail-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="wo-mail-template">{{_('crm.mail.template')}}</label>
    <select id="wo-mail-template" name="template">
    % for t in mail_templates:
      <option value="{{t['id']}}">{{t['name']}}</option>
    % end
    </select>
    <button>{{_('crm.mail.send')}}</button>
  </form>
  % else:
  <p class="muted">{{_('crm.mail.no_templates')}}</p>
  % end
  <table class="list">
    <tbody>
    % for x in mails:
      <tr class="mail-{{x['state']}}"><td class="nowrap">{{when(x['at'])}}</td><td>{{x['by']}}</td><td>{{x['subject']}}</td>
        <td>{{_('crm.mail.state.' + x['state'])}} {{x['error']}}</td></tr>
    % end
    % if not mails:
      <tr class="empty"><td colspan="4">{{_('wo.no_mails')}}</td></tr>
    % end
    </tbody>
  </table>
</section>
% end
<section class="card" id="wo-history">
  <h2>{{_('wo.history')}}</h2>
  <table class="list">
    <thead><tr><th>{{_('wo.when')}}</th><th>{{_('wo.who')}}</th><th>{{_('wo.what')}}</th><th>{{_('wo.note')}}</th></tr></thead>
    <tbody>
    % for h in order['history']:
      <tr class="h-{{h['kind']}}"><td class="nowrap">{{when(h['at'])}}</td><td>{{h['actor']}}</td>
        <td>{{_('wo.event.' + h['kind'])}} {{(h['from_label'] + ' → ' + h['to_label']) if h['kind'] == 'move' else h['to_label'] if h['kind'] == 'create' else ''}}</td>
        <td>{{_('wo.escalated.' + ('1' if h['note'] == 'leader' else '2')) if h['kind'] == 'escalate' else h['note']}}
        % for p in h['photos']:
          <a href="/workorders/{{order['id']}}/photos/{{p}}"><img class="thumb" src="/workorders/{{order['id']}}/photos/{{p}}" alt="{{_('wo.photo')}}" width="64"></a>
        % end
        </td></tr>
    % end
    </tbody>
  </table>
</section>
