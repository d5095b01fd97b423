% rebase('base.tpl', title=_('error.title', status=status))
<section class="card narrow">
  <h1>{{_('error.title', status=status)}}</h1>
  <p>{{message}}</p>
  <p><a href="/">{{_('error.back')}}</a></p>
</section>
