% rebase('base.tpl', title=_('products.title'))
<div class="page-head">
  <h1>{{_('products.title')}}</h1><span class="muted">{{_('orders.count', n=len(products))}}</span>
  <a class="button" href="/orders">{{_('orders.title')}}</a>
  % if staff:
  <a class="button" href="/products/export" id="products-export">{{_('products.export')}}</a>
  % end
</div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem['params'])}}
  % for key, e in errors.items():
  <br><span class="small">{{_('products.column.' + key) if key in ('code', 'name', 'category', 'price', 'unit', 'stock', 'supplier') else key}}: {{field_error(e)}}</span>
  % end
</p>
% end
% if report:
<div class="alert" role="alert" id="import-report"><p>{{_('orders.report_nothing_saved', n=report['error_count'])}}</p>
  <ul>
  % for e in report['errors'][:50]:
    <li>{{_('orders.report_at', row=e['row'], column=e['column'])}}: {{field_error(e['error'])}}</li>
  % end
  </ul></div>
% end
<form method="get" action="/products" class="filters"><input name="q" value="{{q}}" aria-label="{{_('orders.search')}}"> <button>{{_('orders.search')}}</button></form>
<table class="list" id="product-list">
  <thead><tr><th>{{_('products.column.code')}}</th><th>{{_('products.column.name')}}</th><th>{{_('products.column.category')}}</th><th class="num">{{_('products.column.price')}}</th><th>{{_('products.column.unit')}}</th><th class="num">{{_('products.column.stock')}}</th><th>{{_('products.column.supplier')}}</th><th>{{_('products.column.active')}}</th>
  % if staff:
  <th></th>
  % end
  </tr></thead>
  <tbody>
  % for p in products:
    <tr class="{{'' if p['active'] else 'muted'}}"><td class="mono">{{p['code']}}</td><td>{{p['name']}}{{!' <span class="flag yes">' + _('products.gift') + '</span>' if p['gift'] else ''}}</td><td>{{p['category']}}</td>
      <td class="num">{{yuan(p['price'])}}</td><td>{{p['unit']}}</td><td class="num {{'overdue' if p['stock'] <= 0 else ''}}">{{p['stock']}}</td><td>{{p['supplier'] or ''}}</td>
      <td>{{_('import.yes') if p['active'] else _('import.no')}}</td>
      % if staff:
      <td><form method="post" action="/products/{{p['id']}}" class="inline">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <input name="stock" value="{{p['stock']}}" size="5" aria-label="{{_('products.column.stock')}} {{p['code']}}">
        <input name="price" value="{{p['price']}}" size="7" aria-label="{{_('products.column.price')}} {{p['code']}}" {{'readonly' if p['gift'] else ''}}>
        <input type="hidden" name="active" value="off"><label><input type="checkbox" name="active" value="on" {{'checked' if p['active'] else ''}}> {{_('products.column.active')}}</label>
        <button class="small">{{_('products.save')}}</button></form></td>
      % end
    </tr>
  % end
  % if not products:
    <tr><td colspan="9" class="empty muted">{{_('products.none')}}</td></tr>
  % end
  </tbody>
</table>
% if staff:
<div class="columns">
<section class="card" id="product-new">
  <h2>{{_('products.new')}}</h2>
  <form method="post" action="/products" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % for c in ('code', 'name', 'category', 'price', 'unit', 'stock'):
    <label>{{_('products.column.' + c)}} <input name="{{c}}" {{'required' if c in ('code', 'name') else ''}}></label>
    % end
    <label>{{_('products.column.supplier')}} <select name="supplier"><option value="">—</option>
    % for s in suppliers:
      <option value="{{s['name']}}">{{s['name']}}</option>
    % end
    </select></label>
    <label><input type="checkbox" name="gift"> {{_('products.is_gift')}}</label>
    <button class="primary">{{_('products.add')}}</button>
  </form>
</section>
<section class="card" id="product-import">
  <h2>{{_('products.import')}}</h2>
  <p class="hint">{{_('products.import_help')}}</p>
  <form method="post" action="/products/import" enctype="multipart/form-data">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="file" name="file" accept=".xlsx" required> <button>{{_('products.import_button')}}</button>
  </form>
</section>
</div>
<section class="card" id="suppliers">
  <h2>{{_('products.suppliers')}}</h2>
  <table class="list">
    <thead><tr><th>{{_('products.supplier_name')}}</th><th>{{_('products.supplier_contact')}}</th><th>{{_('products.supplier_phone')}}</th><th>{{_('products.supplies')}}</th></tr></thead>
    <tbody>
    % for s in suppliers:
      <tr><td>{{s['name']}}</td><td>{{s['contact']}}</td><td>{{s['phone']}}</td><td class="mono">{{', '.join(s['products'])}}</td></tr>
    % end
    </tbody>
  </table>
  <form method="post" action="/products/suppliers" class="filters">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label>{{_('products.supplier_name')}} <input name="name" required maxlength="128"></label>
    <label>{{_('products.supplier_contact')}} <input name="contact" maxlength="64"></label>
    <label>{{_('products.supplier_phone')}} <input name="phone" maxlength="32"></label>
    <button>{{_('products.supplier_add')}}</button>
  </form>
</section>
% end
<section class="card" id="settings">
  <h2>{{_('orders.settings')}}</h2>
  % if admin:
  <form method="post" action="/products/settings" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label>{{_('orders.settings.price_limit')}} <input name="price_limit_percent" value="{{settings.price_limit_percent}}" size="4"> %</label>
    <label>{{_('orders.settings.yuan_per_point')}} <input name="yuan_per_point" value="{{settings.as_dict()['yuan_per_point']}}" size="8"></label>
    <label>{{_('orders.settings.point_value')}} <input name="point_value" value="{{settings.as_dict()['point_value']}}" size="8"></label>
    <label><input type="checkbox" name="negative_stock" {{'checked' if settings.negative_stock else ''}}> {{_('orders.settings.negative_stock')}}</label>
    <fieldset><legend>{{_('orders.settings.reviewers')}}</legend>
    % for u in supervisors:
      <label><input type="checkbox" name="reviewers" value="{{u['username']}}" {{'checked' if u['username'] in settings.reviewers else ''}}> {{u['username']}}</label>
    % end
    % if not supervisors:
      <p class="muted">{{_('orders.settings.no_supervisors')}}</p>
    % end
    </fieldset>
    <button class="primary">{{_('products.save')}}</button>
  </form>
  % else:
  <p>{{_('orders.settings.summary', percent=settings.price_limit_percent, per=yuan(settings.fen_per_point), value=yuan(settings.point_value_fen))}}</p>
  % end
</section>
