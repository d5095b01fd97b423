% rebase('base.tpl', title='#' + str(order['id']) + ' ' + order['title'])
<div class="dispatch" id="dispatch">
<h1>#{{order['id']}} {{order['title']}}</h1>
<p><span class="flag {{'yes' if order['final'] else ''}}" id="d-state">{{order['state_label']}}</span> · {{label('wo_priority', order['priority'])}} · {{order['type_label']}}</p>
% include('workorder_problem.tpl', problem=problem)
% if moved:
<p class="notice" id="d-moved">{{_('dispatch.moved')}}</p>
% end
% if order['customer']:
<p><strong>{{order['customer']['name']}}</strong> <a href="tel:{{order['customer']['phone']}}">{{order['customer']['phone']}}</a></p>
% end
<dl class="facts">
% for f in order['fields']:
  <dt>{{f['label']}}</dt><dd>{{order['custom'].get(f['name']) if order['custom'].get(f['name']) is not None else '—'}}</dd>
% end
</dl>
% if order['next']:
<form method="post" action="/dispatch/{{token}}" enctype="multipart/form-data" id="d-form">
  <p class="d-moves">
  % for n in order['next']:
    <label class="d-move"><input type="radio" name="to" value="{{n['name']}}" required> {{n['label']}}</label>
  % end
  </p>
  <p><label for="d-note">{{_('wo.note')}}</label><br><textarea id="d-note" name="note" maxlength="2000" rows="3"></textarea></p>
  <p><label for="d-photos">{{_('dispatch.photos', n=max_photos, mb=max_mb)}}</label><br>
    <input id="d-photos" type="file" name="photos" accept="image/jpeg,image/png,image/gif,image/webp" multiple capture="environment"></p>
  <p><button class="primary big">{{_('dispatch.send')}}</button></p>
</form>
% else:
<p class="muted">{{_('wo.closed')}}</p>
% end
<h2>{{_('wo.history')}}</h2>
<ul class="history">
% for h in order['history']:
  <li>{{when(h['at'])}} · {{_('wo.event.' + h['kind'])}} {{h['to_label'] if h['kind'] in ('move', 'create') else ''}} {{h['note'] if h['kind'] != 'escalate' else ''}}
  % for p in h['photos']:
    <img class="thumb" src="/dispatch/{{token}}/photos/{{p}}" alt="{{_('wo.photo')}}" width="64">
  % end
  </li>
% end
</ul>
</div>
