% rebase('base.tpl', title=_('orders.sales.title'))
<p class="crumbs"><a href="/orders">{{_('orders.title')}}</a></p>
<div class="page-head">
  <h1>{{_('orders.sales.title')}}</h1>
  <span class="muted" id="sales-total">{{_('orders.sales.total', n=figures['orders'], amount=yuan(figures['amount']))}}</span>
  <a class="button" href="{{export_url}}" id="sales-export">{{_('orders.sales.export')}}</a>
</div>
<form method="get" action="/orders/sales" class="filters">
  <label>{{_('orders.from')}} <input type="date" name="from" value="{{args.get('from', '')}}"></label>
  <label>{{_('orders.to')}} <input type="date" name="to" value="{{args.get('to', '')}}"></label>
  <label>{{_('orders.agent')}} <input name="agent" value="{{args.get('agent', '')}}" size="6"></label>
  <label>{{_('orders.product')}} <input name="product" value="{{args.get('product', '')}}" size="10"></label>
  <button>{{_('orders.search')}}</button>
</form>
<p class="hint">{{_('orders.sales.help')}}</p>
<div class="columns">
% for part in ('by_agent', 'by_product', 'by_day'):
<section class="card" id="sales-{{part}}">
  <h2>{{_('orders.sales.' + part)}}</h2>
  <table class="list">
    <thead><tr><th>{{_('orders.sales.key_' + part)}}</th>
    % if part == 'by_product':
    <th>{{_('orders.sales.name')}}</th><th class="num">{{_('orders.sales.quantity')}}</th>
    % end
    <th class="num">{{_('orders.sales.orders')}}</th><th class="num">{{_('orders.sales.amount')}}</th></tr></thead>
    <tbody>
    % for r in figures[part]:
      <tr><td>{{r['key']}}</td>
      % if part == 'by_product':
      <td>{{r['name']}}</td><td class="num">{{r['quantity']}}</td>
      % end
      <td class="num">{{r['orders']}}</td><td class="num">{{yuan(r['amount'])}}</td></tr>
    % end
    % if not figures[part]:
      <tr><td colspan="5" class="empty muted">{{_('orders.none')}}</td></tr>
    % end
    </tbody>
  </table>
</section>
% end
</div>
