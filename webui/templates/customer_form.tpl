% rebase('base.tpl', title=_('crm.new'))
<p class="crumbs"><a href="/customers">{{_('nav.customers')}}</a> › {{_('crm.new')}}</p>
<div class="page-head"><h1>{{_('crm.new')}}</h1></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
<section class="card">
  <form method="post" action="/customers" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % include('customer_fields.tpl')
    <div class="buttons"><button class="primary">{{_('admin.create')}}</button></div>
  </form>
</section>
