% rebase('base.tpl', title=_('admin.edit_title', what=_('kind.' + kind), key=key_value))
% include('config_tabs.tpl')
<p class="crumbs"><a href="/admin/{{kind}}">{{_('kind.' + kind)}}</a> ›</p>
<div class="page-head"><h1>{{_('admin.edit_title', what=_('kind.' + kind), key=key_value)}}</h1><span class="muted">{{values.get('display_name') or ''}}</span></div>
% if conflict:
<div class="alert" role="alert" id="conflict">
  <strong>{{_('admin.conflict', who=conflict['username'], at=when(conflict['at'], True))}}</strong>
  <span class="small">{{_('admin.conflict_next')}}</span>
</div>
% end
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
<section class="card">
  <form method="post" action="/admin/{{kind}}/{{key_value}}" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="version" value="{{version}}">
    % include('config_fields.tpl')
    <div class="buttons"><button class="primary">{{_('admin.save')}}</button> <a class="button" href="/admin/{{kind}}">{{_('admin.cancel')}}</a></div>
  </form>
</section>
% if get('provisioning'):
% include('phone_provisioning.tpl', p=provisioning)
% end
