% # The customer's latest order as the voice menu says it, told to a colleague by internal message
<section class="card" id="order-status">
  <h2>{{_('orders.tell.title')}}</h2>
  <p id="order-sentence">{{_('orders.tell.line', n=latest['id'], sentence=sentence) if latest else sentence}}</p>
  % if told:
  <p class="notice" role="status" id="order-status-told">{{_('orders.tell.told', who=told)}}</p>
  % end
  % if tell_problem:
  <p class="alert" role="alert" id="order-status-problem">{{error_message(tell_problem['code'], tell_problem['status'], tell_problem.get('params'))}}</p>
  % end
  <form method="post" action="{{action}}" class="inline" id="order-status-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="order-status-to">{{_('orders.tell.to')}}</label>
    <select id="order-status-to" name="to">
    % for u in colleagues:
      <option value="{{u['username']}}">{{u['username']}} ({{_('role.' + u['role'])}})</option>
    % end
    </select>
    <button>{{_('orders.tell.send')}}</button>
  </form>
  <p class="hint">{{_('orders.tell.how')}}</p>
</section>
