% rebase('base.tpl', title=_('orders.order_title', n=order['id']))
<p class="crumbs"><a href="/orders">{{_('orders.title')}}</a> › #{{order['id']}}</p>
<div class="page-head left">
  <h1>{{_('orders.order_title', n=order['id'])}}</h1>
  <span class="state order-{{order['state']}}" id="order-state">{{_('orders.state.' + order['state'])}}</span>
</div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem['params'])}}
  % for key, e in errors.items():
  <br><span class="small">{{_('orders.field_name.' + key) if key in ('reason', 'courier', 'tracking', 'amount', 'method', 'paid_on', 'reference') else key}}: {{field_error(e)}}</span>
  % end
</p>
% end
<div class="columns">
<section class="card" id="order-summary">
  <dl class="facts">
    <dt>{{_('orders.customer')}}</dt><dd>
    % if order['customer_id']:
      <a href="/customers/{{order['customer_id']}}">{{order['customer_name']}}</a>
    % else:
      {{order['customer_name']}}
    % end
      <span class="mono">{{order['customer_phone']}}</span></dd>
    <dt>{{_('orders.agent')}}</dt><dd>{{order['agent'] or '—'}} ({{order['created_by']}})</dd>
    <dt>{{_('orders.created')}}</dt><dd>{{when(order['created_at'])}}</dd>
    % if order['linkedid']:
    <dt>{{_('orders.call')}}</dt><dd><a href="/calls/{{order['linkedid']}}" id="order-call">{{_('orders.call_link_recording') if order['recording'] else _('orders.call_link')}}</a></dd>
    % end
    <dt>{{_('orders.address')}}</dt><dd>{{order['address']}}</dd>
    <dt>{{_('orders.payment_method')}}</dt><dd>{{_('orders.method.' + order['payment_method'])}}</dd>
    % if order['note']:
    <dt>{{_('orders.note')}}</dt><dd>{{order['note']}}</dd>
    % end
    % if order['courier'] or order['tracking']:
    <dt>{{_('orders.tracking')}}</dt><dd id="order-tracking">{{order['courier']}} <span class="mono">{{order['tracking']}}</span></dd>
    % end
    % if order['reason']:
    <dt>{{_('orders.reason')}}</dt><dd id="order-reason">{{order['reason']}}</dd>
    % end
  </dl>
  <table class="list" id="order-items">
    <thead><tr><th>{{_('orders.product')}}</th><th class="num">{{_('orders.quantity')}}</th><th class="num">{{_('orders.list_price')}}</th><th class="num">{{_('orders.price')}}</th><th class="num">{{_('orders.amount')}}</th></tr></thead>
    <tbody>
    % for i in order['items']:
      <tr><td>{{i['code']}} {{i['name']}}{{!' <span class="flag yes">' + _('products.gift') + '</span>' if i['gift'] else ''}}</td><td class="num">{{i['quantity']}}</td>
        <td class="num">{{yuan(i['list_price'])}}</td><td class="num">{{yuan(i['price'])}}</td><td class="num">{{yuan(i['amount'])}}</td></tr>
    % end
    </tbody>
    <tfoot>
      <tr><th colspan="4">{{_('orders.subtotal')}}</th><td class="num">{{yuan(order['subtotal'])}}</td></tr>
      % if order['points_used']:
      <tr><th colspan="4">{{_('orders.points_used', n=order['points_used'])}}</th><td class="num">-{{yuan(order['points_discount'])}}</td></tr>
      % end
      <tr><th colspan="4">{{_('orders.total')}}</th><td class="num" id="order-total">{{yuan(order['total'])}}</td></tr>
      <tr><th colspan="4">{{_('orders.paid')}}</th><td class="num" id="order-paid">{{yuan(order['paid'])}}</td></tr>
      <tr><th colspan="4">{{_('orders.owed')}}</th><td class="num" id="order-owed">{{yuan(order['owed'])}}</td></tr>
    </tfoot>
  </table>
  % if order['points_earned']:
  <p class="hint">{{_('orders.points_earned', n=order['points_earned'])}}</p>
  % end
</section>
<section class="card" id="order-actions">
  <h2>{{_('orders.next')}}</h2>
  % acts = order['actions']
  % if 'edit' in acts:
  <p><a class="button" href="/orders/{{order['id']}}/edit" id="edit-order">{{_('orders.edit')}}</a></p>
  % end
  % for a in ('submit', 'approve', 'deliver'):
  %   if a in acts:
  <form method="post" action="/orders/{{order['id']}}/{{a}}" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="version" value="{{order['version']}}">
    <button class="primary" id="act-{{a}}">{{_('orders.action.' + a)}}</button></form>
  %   end
  % end
  % if 'reject' in acts:
  <form method="post" action="/orders/{{order['id']}}/reject" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="version" value="{{order['version']}}">
    <label>{{_('orders.reason')}} <input name="reason" maxlength="500" id="reject-reason"></label>
    <button id="act-reject">{{_('orders.action.reject')}}</button></form>
  % end
  % if 'ship' in acts:
  <form method="post" action="/orders/{{order['id']}}/ship" class="stack" id="ship-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="version" value="{{order['version']}}">
    <label>{{_('orders.courier')}} <input name="courier" maxlength="32" id="ship-courier"></label>
    <label>{{_('orders.tracking')}} <input name="tracking" maxlength="64" id="ship-tracking"></label>
    <button class="primary" id="act-ship">{{_('orders.action.ship')}}</button></form>
  % end
  % for a in ('return', 'cancel'):
  %   if a in acts:
  <form method="post" action="/orders/{{order['id']}}/{{a}}" class="inline" data-confirm="{{_('orders.confirm.' + a)}}">
    <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="version" value="{{order['version']}}">
    <button class="danger" id="act-{{a}}">{{_('orders.action.' + a)}}</button></form>
  %   end
  % end
  % if not [a for a in acts if a != 'pay']:
  <p class="muted">{{_('orders.nothing_to_do')}}</p>
  % end
</section>
</div>
% if order['customer_id']:
% include('order_status_card.tpl', action='/orders/' + str(order['id']) + '/order-status')
% end
<section class="card" id="payments">
  <h2>{{_('orders.payments')}}</h2>
  <table class="list">
    <thead><tr><th>{{_('orders.paid_on')}}</th><th class="num">{{_('orders.amount')}}</th><th>{{_('orders.payment_method')}}</th><th>{{_('orders.reference')}}</th><th>{{_('orders.by')}}</th></tr></thead>
    <tbody>
    % for p in order['payments']:
      <tr><td>{{p['paid_on']}}</td><td class="num">{{yuan(p['amount'])}}</td><td>{{_('orders.method.' + p['method'])}}</td><td>{{p['reference']}}</td><td>{{p['by']}}</td></tr>
    % end
    % if not order['payments']:
      <tr><td colspan="5" class="empty muted">{{_('orders.no_payments')}}</td></tr>
    % end
    </tbody>
  </table>
  % if 'pay' in order['actions']:
  <form method="post" action="/orders/{{order['id']}}/payments" class="filters" id="pay-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label>{{_('orders.amount')}} <input name="amount" value="{{order['owed']}}" inputmode="decimal" size="10"></label>
    <label>{{_('orders.payment_method')}} <select name="method">
    % for pm in methods:
      <option value="{{pm}}" {{'selected' if order['payment_method'] == pm else ''}}>{{_('orders.method.' + pm)}}</option>
    % end
    </select></label>
    <label>{{_('orders.paid_on')}} <input type="date" name="paid_on" value="{{today}}"></label>
    <label>{{_('orders.reference')}} <input name="reference" maxlength="64"></label>
    <button class="primary" id="record-payment">{{_('orders.record_payment')}}</button>
  </form>
  % end
</section>
<section class="card" id="order-history">
  <h2>{{_('orders.history')}}</h2>
  <ul class="timeline">
  % for e in reversed(order['history']):
    <li><span class="when mono small">{{when(e['at'])}}</span> <span class="author">{{e['by']}}</span>
      {{_('orders.action.' + e['action'])}}{{!' → <strong>' + _('orders.state.' + e['to']) + '</strong>' if e['to'] and e['to'] != e['from'] else ''}}
      % if e['detail'].get('reason'):
      <span class="muted">{{e['detail']['reason']}}</span>
      % end
      % if e['detail'].get('amount'):
      <span class="muted">{{yuan(e['detail']['amount'])}}</span>
      % end
    </li>
  % end
  </ul>
  <p class="hint">{{_('times.office', tz=office_tz())}}</p>
</section>
