% if not refusals:
<p class="empty">{{_('compliance.no_refusals')}}</p>
% else:
<div class="table-wrap">
<table class="list" id="refusal-list">
  <thead><tr><th>{{_('compliance.refused_at')}}</th><th>{{_('callerid.number')}}</th><th>{{_('compliance.path')}}</th>
    <th>{{_('compliance.line')}}</th><th>{{_('compliance.rule')}}</th></tr></thead>
  <tbody>
  % for r in refusals:
    <tr data-rule="{{r['rule']}}"><td>{{when(r['at'], True)}}</td><td translate="no">{{r['number']}}</td>
      <td>{{_('compliance.path.' + r['path'])}}</td>
      <td>{{r['agent'] or r['campaign'] or r['actor']}}</td>
      <td><strong>{{_('compliance.rule.' + r['rule'])}}</strong></td></tr>
  % end
  </tbody>
</table>
</div>
% end
