% rebase('base.tpl', title=customer['name'])
<p class="crumbs"><a href="/customers">{{_('nav.customers')}}</a> › {{customer['name']}}</p>
<div class="page-head left">
  <h1>{{customer['name']}}</h1>
  % include('phone.tpl', number=customer['phone'])
  % if customer['email']:
  <span class="muted small" id="customer-email" translate="no">{{customer['email']}}</span>
  % end
  % if customer['category']:
  <span class="flag yes">{{customer['category']}}</span>
  % end
  % for t in customer['tags']:
  <span class="tag">{{t}}</span>
  % end
  % if access != POOL:
  <a class="button small" href="/orders/new?customer={{customer['id']}}" id="new-order">{{_('orders.new')}}</a>
  % end
  <span class="muted small">{{_('field.customers.account_manager')}}: {{customer['account_manager'] or _('crm.nobody')}} {{customer['account_manager_name']}}</span>
  <a class="button small" id="new-workorder" href="/workorders/new?customer={{customer['id']}}&source=customer">{{_('wo.new')}}</a>
</div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
% if access != OWNER:
<div class="notice" id="read-only" role="note"><p>{{_('crm.read_only_pool') if access == POOL else _('crm.read_only_caller')}}</p>
  % if access == POOL and my_agent:
  <form method="post" action="/customers/{{customer['id']}}/claim" id="claim">
    <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="primary">{{_('crm.claim')}}</button></form>
  % end
</div>
% end
% for c in claims:
<p class="hint claim-record">{{_('crm.claimed_by', agent=c['agent'] or '—', who=c['by'], at=when(c['at']))}}</p>
% end
<div class="columns">
<section class="card" id="history">
  <h2>{{_('crm.history')}}</h2>
  % if access == OWNER:
  <form method="post" action="/customers/{{customer['id']}}/notes" class="note-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field {{'has-error' if note_error else ''}}">
      <label for="n-body">{{_('crm.add_note')}}</label>
      <textarea id="n-body" name="body" rows="3" maxlength="4000">{{values.get('note', '')}}</textarea>
      % if note_error:
      <em class="field-error">{{field_error(note_error)}}</em>
      % end
    </div>
    <button class="primary">{{_('crm.save_note')}}</button>
  </form>
  % end
  <ul class="timeline">
  % for item in history:
    <li class="{{item['kind']}}">
      <span class="when mono small">{{when(item['at'])}}</span>
      % if item['kind'] == 'call':
      <span class="call {{'talking' if item['disposition'] == 'answered' else 'queued'}}">{{_('crm.direction.' + item['direction']) if item['direction'] in ('inbound', 'outbound') else label('direction', item['direction'])}}</span>
      <span>{{_('crm.call_summary', agent=item['agent'] or '—', queue=item['queue'] or '—', disposition=label('disposition', item['disposition']), talk=secs(item['talk_seconds']))}}</span>
      % elif item['kind'] == 'mail':
      <span class="mail-{{item['state']}}">{{_('crm.mail.item', state=_('crm.mail.state.' + item['state']))}}</span>
      <span>{{item['subject']}} · {{item['by']}}{{(' · ' + _('crm.mail.work_order', n=item['work_order'])) if item['work_order'] else ''}}</span>
      % if item['error']:
      <p class="body small">{{item['error']}}</p>
      % end
      % elif item['kind'] == 'order':
      <span class="order-{{item['state']}}"><a href="/orders/{{item['id']}}">{{_('orders.order_title', n=item['id'])}}</a></span>
      <span>{{_('orders.history_item', state=_('orders.state.' + item['state']), total=item['total'], agent=item['agent'] or '—')}}</span>
      % else:
      <span class="author">{{item['author']}}</span>
      <p class="body">{{item['body']}}</p>
      % end
    </li>
  % end
  % if not history:
    <li class="empty muted">{{_('crm.no_history')}}</li>
  % end
  </ul>
  <p class="hint">{{_('times.office', tz=office_tz())}}</p>
</section>
% if access == OWNER:
<section class="card" id="follow-ups">
  <h2>{{_('crm.follow_ups')}}</h2>
  <table class="list">
    <tbody>
    % for f in follow_ups:
      <tr class="{{'done' if f['done_at'] else ('overdue' if f['overdue'] else '')}}">
        <td class="nowrap">{{f['due_at'][:16]}}</td><td>{{_('crm.kind.' + f['kind'])}}</td>
        <td class="detail">{{f['note']}}</td><td>{{f['agent'] or ''}}</td>
        <td class="actions">
        % if f['done_at']:
          <span class="flag yes">{{_('crm.done_by', who=f['done_by'])}}</span>
        % else:
          <form method="post" action="/follow-ups/{{f['id']}}/done" class="inline">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small">{{_('crm.done')}}</button></form>
        % end
        </td>
      </tr>
    % end
    % if not follow_ups:
      <tr class="empty"><td colspan="5">{{_('crm.no_follow_ups')}}</td></tr>
    % end
    </tbody>
  </table>
  % fv = values.get('follow_up') or {}
  <form method="post" action="/customers/{{customer['id']}}/follow-ups" class="grid compact">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field {{'has-error' if 'kind' in follow_up_errors else ''}}"><label for="f-kind">{{_('crm.kind')}}</label>
      <select id="f-kind" name="kind">
      % for k in follow_up_kinds:
        <option value="{{k}}" {{'selected' if fv.get('kind') == k else ''}}>{{_('crm.kind.' + k)}}</option>
      % end
      </select></div>
    <div class="field {{'has-error' if 'due_at' in follow_up_errors else ''}}"><label for="f-due">{{_('crm.due_at')}} *</label>
      <input id="f-due" type="datetime-local" name="due_at" value="{{fv.get('due_at', '')}}">
      % if 'due_at' in follow_up_errors:
      <em class="field-error">{{field_error(follow_up_errors['due_at'])}}</em>
      % end
    </div>
    <div class="field wide {{'has-error' if 'note' in follow_up_errors else ''}}"><label for="f-note">{{_('crm.note')}}</label>
      <input id="f-note" name="note" maxlength="500" value="{{fv.get('note', '')}}">
      % if 'note' in follow_up_errors:
      <em class="field-error">{{field_error(follow_up_errors['note'])}}</em>
      % end
    </div>
    % if staff:
    <div class="field {{'has-error' if 'agent' in follow_up_errors else ''}}"><label for="f-agent">{{_('live.agent')}}</label>
      <select id="f-agent" name="agent"><option value="">{{_('crm.the_manager')}}</option>
      % for a in agents:
        <option value="{{a['number']}}" {{'selected' if fv.get('agent') == a['number'] else ''}}>{{a['number']}} {{a['name']}}</option>
      % end
      </select>
      % if 'agent' in follow_up_errors:
      <em class="field-error">{{field_error(follow_up_errors['agent'])}}</em>
      % end
    </div>
    % end
    <div class="buttons"><button>{{_('crm.add_follow_up')}}</button></div>
  </form>
</section>
% end
</div>
<div class="columns">
<section class="card" id="workorders">
  <h2>{{_('crm.workorders.title')}}</h2>
  <table class="list">
    <thead><tr><th>#</th><th>{{_('crm.workorders.subject')}}</th><th>{{_('crm.workorders.state')}}</th><th>{{_('crm.workorders.priority')}}</th><th>{{_('crm.workorders.opened')}}</th></tr></thead>
    <tbody>
    % for w in work_orders:
      <tr class="{{'done' if w['closed_at'] else ('overdue' if w['overdue'] else '')}}"><td><a href="/workorders/{{w['id']}}">#{{w['id']}}</a></td><td>{{w['title']}}</td>
        <td>{{w['state_label']}}{{(' · ' + _('crm.workorders.overdue')) if w['overdue'] else ''}}</td><td>{{label('wo_priority', w['priority'])}}</td><td class="nowrap">{{when(w['created_at'])}}</td></tr>
    % end
    % if not work_orders:
      <tr class="empty"><td colspan="5">{{_('crm.workorders.none')}}</td></tr>
    % end
    </tbody>
  </table>
</section>
<section class="card" id="ledger">
  <h2>{{_('crm.ledger.title')}}</h2>
  <p id="points-balance">{{_('crm.ledger.balance', n=ledger['balance'])}}</p>
  <table class="list">
    <thead><tr><th>{{_('crm.ledger.when')}}</th><th class="num">{{_('crm.ledger.change')}}</th><th class="num">{{_('crm.ledger.after')}}</th><th>{{_('crm.ledger.why')}}</th><th>{{_('crm.ledger.order')}}</th></tr></thead>
    <tbody>
    % for e in ledger['entries']:
      <tr><td class="nowrap">{{when(e['at'])}}</td><td class="num">{{'%+d' % e['delta']}}</td><td class="num">{{e['balance']}}</td>
        <td>{{_('crm.ledger.reason.' + e['reason']) if e['reason'] in ('earned', 'redeemed', 'refunded', 'reversed', 'adjusted') else e['reason']}} · {{e['by']}}</td>
        <td>
        % if e['order_id']:
          <a href="/orders/{{e['order_id']}}">{{_('orders.order_title', n=e['order_id'])}}</a>
        % end
        </td></tr>
    % end
    % if not ledger['entries']:
      <tr class="empty"><td colspan="5">{{_('crm.ledger.none')}}</td></tr>
    % end
    </tbody>
  </table>
</section>
</div>
% if access != POOL:
<div class="columns">
<section class="card" id="mail">
  <h2>{{_('crm.mail.title')}}</h2>
  % if mailed:
  <p class="notice" role="status" id="mail-queued">{{_('crm.mail.queued')}}</p>
  % end
  % if mail_problem:
  <p class="alert" role="alert" id="mail-problem">{{error_message(mail_problem['code'], mail_problem['status'], mail_problem.get('params'))}}</p>
  % end
  % if not customer['email']:
  <p class="hint" id="mail-no-address">{{_('crm.mail.no_address_hint')}}</p>
  % end
  % if mail_templates:
  <form method="post" action="/customers/{{customer['id']}}/mails" class="inline" id="mail-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="mail-template">{{_('crm.mail.template')}}</label>
    <select id="mail-template" name="template">
    % for t in mail_templates:
      <option value="{{t['id']}}">{{t['name']}}</option>
    % end
    </select>
    <button class="primary">{{_('crm.mail.send')}}</button>
  </form>
  <p class="hint">{{_('crm.mail.how')}}</p>
  % else:
  <p class="muted" id="mail-no-templates">{{_('crm.mail.no_templates')}}</p>
  % end
</section>
% include('order_status_card.tpl', action='/customers/' + str(customer['id']) + '/order-status', latest=order_status['order'], sentence=order_status['sentence'])
</div>
% end
% if access == OWNER:
<section class="card" id="edit">
  <h2>{{_('crm.edit')}}</h2>
  <form method="post" action="/customers/{{customer['id']}}" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % include('customer_fields.tpl')
    <div class="buttons"><button class="primary">{{_('admin.create')}}</button></div>
  </form>
  % if staff:
  <form method="post" action="/customers/{{customer['id']}}/delete" class="delete-row" data-confirm="{{_('admin.confirm_delete', what=customer['name'])}}">
    <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('admin.delete')}}</button>
  </form>
  % end
  <p class="hint">{{_('crm.created_by', who=customer['created_by'] or '—', at=when(customer['created_at']))}}</p>
</section>
% end
<p class="status" id="dial-status" role="status" aria-live="polite" hidden></p>
% include('dial_script.tpl')
