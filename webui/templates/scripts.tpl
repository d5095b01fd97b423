% rebase('base.tpl', title=_('scripts.title'))
% include('config_tabs.tpl')
<div class="page-head">
  <h1>{{_('scripts.title')}}</h1>
  <a class="button primary" href="/admin/scripts/new" id="new-script">{{_('scripts.new')}}</a>
</div>
<p class="hint">{{_('scripts.help')}}</p>
<section class="card">
  <table class="list" id="scripts">
    <thead><tr><th>{{_('scripts.label')}}</th><th>{{_('scripts.name')}}</th><th class="num">{{_('scripts.steps')}}</th>
      <th>{{_('scripts.queues')}}</th><th>{{_('scripts.campaigns')}}</th><th></th></tr></thead>
    <tbody>
    % for s in scripts:
      <tr><td><a href="/admin/scripts/{{s['id']}}">{{s['label']}}</a></td><td translate="no">{{s['name']}}</td>
        <td class="num">{{len(s['steps'])}}</td>
        <td>{{'、'.join(queue_names.get(q, q) for q in s['queues']) or '—'}}</td>
        <td>{{'、'.join(campaign_names.get(c, c) for c in s['campaigns']) or '—'}}</td>
        <td>{{'' if s['active'] else _('scripts.inactive')}}
          <form method="post" action="/admin/scripts/{{s['id']}}/delete" class="inline" data-confirm="{{_('admin.confirm_delete', what=s['label'])}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('admin.delete')}}</button></form></td></tr>
    % end
    % if not scripts:
      <tr class="empty"><td colspan="6">{{_('scripts.none')}}</td></tr>
    % end
    </tbody>
  </table>
</section>
