% rebase('base.tpl', title=_('orders.new_title', name=customer['name']))
<p class="crumbs"><a href="/orders">{{_('orders.title')}}</a> › <a href="/customers/{{customer['id']}}">{{customer['name']}}</a></p>
<h1>{{_('orders.edit_title', n=order['id']) if order else _('orders.new_title', name=customer['name'])}}</h1>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem['params'])}}
  % for key, e in errors.items():
  <br><span class="small">{{key}}: {{field_error(e)}}</span>
  % end
</p>
% end
<form method="post" action="{{'/orders/%d/edit' % order['id'] if order else '/orders'}}" id="order-form" class="stack">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <input type="hidden" name="customer_id" value="{{customer['id']}}">
  <input type="hidden" name="linkedid" value="{{values.get('linkedid', '')}}">
  % if order:
  <input type="hidden" name="version" value="{{order['version']}}">
  % end
  % if values.get('linkedid'):
  <p class="hint" id="on-call">{{_('orders.on_call', linkedid=values['linkedid'])}}</p>
  % end
  <table class="list" id="order-lines">
    <thead><tr><th>{{_('orders.product')}}</th><th>{{_('orders.quantity')}}</th><th>{{_('orders.price')}}</th></tr></thead>
    <tbody>
    % chosen = values.get('items') or []
    % for n in range(lines):
    %   line = chosen[n] if n < len(chosen) else {}
      <tr>
        <td class="{{'has-error' if ('items.%d.product' % n) in errors else ''}}"><select name="product.{{n}}" aria-label="{{_('orders.product')}} {{n + 1}}">
          <option value="">—</option>
          % for p in products:
          <option value="{{p['code']}}" {{'selected' if str(line.get('product', '')) in (p['code'], str(p['id'])) else ''}}>{{p['code']}} {{p['name']}} · {{_('products.gift') if p['gift'] else yuan(p['price'])}} · {{_('products.in_stock', n=p['stock'])}}</option>
          % end
        </select></td>
        <td class="{{'has-error' if ('items.%d.quantity' % n) in errors else ''}}"><input name="quantity.{{n}}" value="{{line.get('quantity', 1)}}" inputmode="numeric" size="5" aria-label="{{_('orders.quantity')}} {{n + 1}}">
          % if ('items.%d.quantity' % n) in errors:
          <em class="field-error">{{field_error(errors['items.%d.quantity' % n])}}</em>
          % end
        </td>
        <td class="{{'has-error' if ('items.%d.price' % n) in errors else ''}}"><input name="price.{{n}}" value="{{line.get('price', '')}}" inputmode="decimal" size="8" placeholder="{{_('orders.list_price')}}" aria-label="{{_('orders.price')}} {{n + 1}}">
          % if ('items.%d.price' % n) in errors:
          <em class="field-error">{{field_error(errors['items.%d.price' % n])}}</em>
          % end
        </td>
      </tr>
    % end
    </tbody>
  </table>
  <p class="hint">{{_('orders.price_help', percent=settings.price_limit_percent)}}</p>
  <label>{{_('orders.points_to_use')}} <input name="points" value="{{values.get('points', 0)}}" inputmode="numeric" size="8">
    <span class="muted" id="points-balance">{{_('points.balance', n=points, value=yuan(settings.point_value_fen))}}</span></label>
  % if 'points' in errors:
  <em class="field-error">{{field_error(errors['points'])}}</em>
  % end
  % if addresses:
  <label>{{_('orders.address_known')}} <select name="address_id"><option value="">—</option>
  % for a in addresses:
    <option value="{{a['id']}}" {{'selected' if values.get('address') == a['address'] else ''}}>{{a['address']}}</option>
  % end
  </select></label>
  % end
  <label class="{{'has-error' if 'address' in errors else ''}}">{{_('orders.address_new') if addresses else _('orders.address')}} <input name="address" value="{{values.get('address', '') if not addresses or values.get('address') not in [a['address'] for a in addresses] else ''}}" maxlength="255" size="50">
  % if 'address' in errors:
  <em class="field-error">{{field_error(errors['address'])}}</em>
  % end
  </label>
  <label>{{_('orders.payment_method')}} <select name="payment_method">
  % for pm in methods:
    <option value="{{pm}}" {{'selected' if values.get('payment_method') == pm else ''}}>{{_('orders.method.' + pm)}}</option>
  % end
  </select></label>
  <label>{{_('orders.note')}} <textarea name="note" rows="2" maxlength="500">{{values.get('note', '')}}</textarea></label>
  <p><button name="submit" value="0">{{_('orders.save_draft')}}</button>
     <button class="primary" name="submit" value="1" id="submit-for-review">{{_('orders.save_submit')}}</button></p>
</form>
