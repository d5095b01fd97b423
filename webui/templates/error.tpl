% rebase('base.tpl', title=_('error.title', status=status))
<section class="card narrow error-page">
  <p class="status-code">{{status}}</p>
  <h1>{{error_message(code, status)}}</h1>
  % if error_id:
  <p class="muted">{{_('error.internal_id', error_id=error_id)}}</p>
  % elif detail:
  <p class="muted small">{{_('error.detail')}}: {{detail}}</p>
  % end
  <p><a href="{{'/' if user else '/login'}}">{{_('error.back') if user else _('error.to_login')}}</a></p>
</section>
