% rebase('base.tpl', title=_('orders.title'))
<div class="page-head">
  <h1>{{_('orders.title')}}</h1><span class="muted">{{_('orders.count', n=result['total'])}}</span>
  <a class="button" href="/products">{{_('products.title')}}</a>
  % if staff:
  <a class="button" href="{{sales_url}}" id="sales-link">{{_('orders.sales.title')}}</a>
  % end
</div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem['params'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
<form method="get" action="/orders" class="filters" id="order-filters">
  <label>{{_('orders.state')}} <select name="state"><option value="">{{_('crm.any')}}</option>
  % for s in states:
    <option value="{{s}}" {{'selected' if args.get('state') == s else ''}}>{{_('orders.state.' + s)}}</option>
  % end
  </select></label>
  <label>{{_('orders.agent')}} <select name="agent"><option value="">{{_('crm.any')}}</option>
  % for a in agents:
    <option value="{{a['number']}}" {{'selected' if args.get('agent') == a['number'] else ''}}>{{a['number']}} {{a['name']}}</option>
  % end
  </select></label>
  <label>{{_('orders.customer')}} <input name="customer" value="{{args.get('customer', '')}}" maxlength="64"></label>
  <label>{{_('orders.product')}} <input name="product" value="{{args.get('product', '')}}" maxlength="64"></label>
  <label>{{_('orders.from')}} <input type="date" name="from" value="{{args.get('from', '')}}"></label>
  <label>{{_('orders.to')}} <input type="date" name="to" value="{{args.get('to', '')}}"></label>
  <button>{{_('orders.search')}}</button>
</form>
<table class="list" id="order-list">
  <thead><tr><th>{{_('orders.number')}}</th><th>{{_('orders.created')}}</th><th>{{_('orders.customer')}}</th><th>{{_('orders.agent')}}</th><th>{{_('orders.state')}}</th><th class="num">{{_('orders.total')}}</th><th class="num">{{_('orders.owed')}}</th><th>{{_('orders.tracking')}}</th></tr></thead>
  <tbody>
  % for o in result['items']:
    <tr><td><a href="/orders/{{o['id']}}">#{{o['id']}}</a></td><td class="nowrap">{{when(o['created_at'])}}</td>
      <td>{{o['customer_name']}}</td><td>{{o['agent']}}</td><td><span class="state order-{{o['state']}}">{{_('orders.state.' + o['state'])}}</span></td>
      <td class="num">{{yuan(o['total'])}}</td><td class="num">{{yuan(o['owed'])}}</td><td class="mono">{{o['tracking']}}</td></tr>
  % end
  % if not result['items']:
    <tr><td colspan="8" class="empty muted">{{_('orders.none')}}</td></tr>
  % end
  </tbody>
</table>
% if result['pages'] > 1:
<p class="pages">
  % for n in range(1, result['pages'] + 1):
  <a href="{{page_url(n)}}" class="{{'on' if n == result['page'] else ''}}">{{n}}</a>
  % end
</p>
% end
% if staff:
<section class="card" id="tracking-import">
  <h2>{{_('orders.tracking_import')}}</h2>
  <p class="hint">{{_('orders.tracking_import_help')}}</p>
  <form method="post" action="/orders/tracking" enctype="multipart/form-data">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="file" name="file" accept=".xlsx" required> <button>{{_('orders.tracking_import_button')}}</button>
  </form>
</section>
% end
