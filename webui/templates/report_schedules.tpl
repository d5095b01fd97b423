% rebase('base.tpl', title=_('reports.schedules'))
% LANG_NAMES = {'zh_CN': '中文（简体）', 'en': 'English'}
<div class="page-head">
  <h1>{{_('reports.schedules')}}</h1>
</div>
<nav class="tabs report-tabs" aria-label="{{_('nav.reports')}}">
% for k in report_kinds:
  <a href="/reports/{{k}}">{{_('reports.kind.' + k)}}</a>
% end
  <a href="/reports/schedules" class="on">{{_('reports.schedules')}}</a>
</nav>
<p class="muted">{{_('reports.schedules.help')}}</p>
% if not mail_on:
<p class="notice" id="mail-off">{{_('reports.schedules.mail_off')}}</p>
% end
<section class="card">
  <div class="table-wrap">
  <table class="list" id="schedules"><thead><tr>
    <th>{{_('reports.schedules.report')}}</th><th>{{_('reports.schedules.period')}}</th>
    <th>{{_('reports.col.queue')}}</th><th>{{_('reports.schedules.recipients')}}</th>
    <th>{{_('reports.schedules.language')}}</th><th>{{_('reports.schedules.last')}}</th><th></th></tr></thead>
  <tbody>
  % if not rows:
    <tr class="empty"><td colspan="7">{{_('reports.schedules.none')}}</td></tr>
  % end
  % for r in rows:
    <tr>
      <td>{{_('reports.kind.' + r['report'])}}</td><td>{{_('reports.period.' + r['period'])}}</td>
      <td>{{r['queue'] or _('crm.any')}}</td><td>{{r['recipients']}}</td>
      <td>{{LANG_NAMES.get(r['language'], r['language'])}}</td>
      <td>{{r['last_period'] or '—'}}
      % if r['last_error']:
        <span class="alert small">{{_('reports.schedules.mail_off_short') if r['last_error'] == 'mail-off' else r['last_error']}}</span>
      % end
      </td>
      <td><form method="post" action="/reports/schedules/{{r['id']}}/delete" class="inline"
            data-confirm="{{_('reports.schedules.confirm_delete')}}">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <button class="small danger">{{_('reports.schedules.delete')}}</button></form></td>
    </tr>
  % end
  </tbody></table>
  </div>
</section>
<section class="card">
  <h2>{{_('reports.schedules.new')}}</h2>
  % if problem:
  <div class="alert" role="alert" id="schedule-problem">
    % for name, text in problem:
    <p>{{_('reports.schedules.' + name) if name in ('report', 'period', 'recipients', 'language') else _('reports.col.queue')}}: {{text}}</p>
    % end
  </div>
  % end
  <form method="post" action="/reports/schedules" class="row" id="schedule-form">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field"><label for="s-report">{{_('reports.schedules.report')}}</label>
      <select id="s-report" name="report">
      % for k in kinds:
        <option value="{{k}}" {{'selected' if values.get('report') == k else ''}}>{{_('reports.kind.' + k)}}</option>
      % end
      </select></div>
    <div class="field"><label for="s-period">{{_('reports.schedules.period')}}</label>
      <select id="s-period" name="period">
      % for p in periods:
        <option value="{{p}}" {{'selected' if values.get('period') == p else ''}}>{{_('reports.period.' + p)}}</option>
      % end
      </select></div>
    <div class="field"><label for="s-queue">{{_('reports.col.queue')}}</label>
      <select id="s-queue" name="queue"><option value="">{{_('crm.any')}}</option>
      % for q in queues:
        <option value="{{q}}" {{'selected' if values.get('queue') == q else ''}}>{{q}}</option>
      % end
      </select></div>
    <div class="field grow"><label for="s-recipients">{{_('reports.schedules.recipients')}}</label>
      <input id="s-recipients" name="recipients" value="{{values.get('recipients', '')}}" maxlength="1000"></div>
    <div class="field"><label for="s-language">{{_('reports.schedules.language')}}</label>
      <select id="s-language" name="language">
      % for l in ('zh_CN', 'en'):
        <option value="{{l}}" {{'selected' if values.get('language', lang) == l else ''}}>{{LANG_NAMES[l]}}</option>
      % end
      </select></div>
    <div class="field"><button>{{_('reports.schedules.add')}}</button></div>
  </form>
</section>
