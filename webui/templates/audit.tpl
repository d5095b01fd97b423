% rebase('base.tpl', title=_('nav.audit'))
% from urllib.parse import urlencode
% pages = max(1, (total + per_page - 1) // per_page)
% def page_url(n):
%   return '/admin/audit?' + urlencode({**{k: v for k, v in args.items() if k in ('kind', 'user', 'from', 'to') and v}, 'page': n})
% end
<div class="page-head"><h1>{{_('nav.audit')}}</h1><span class="muted" id="audit-count">{{_('audit.count', n=total)}}</span></div>
<section class="card">
  <form method="get" action="/admin/audit" class="row search" id="audit-filters">
    <div class="field"><label for="a-kind">{{_('audit.kind')}}</label>
      <select id="a-kind" name="kind"><option value="">{{_('audit.kind_any')}}</option>
      % for k in choices['kinds']:
        <option value="{{k}}" {{'selected' if k == args.get('kind') else ''}}>{{label('kind', k)}}</option>
      % end
      </select></div>
    <div class="field"><label for="a-user">{{_('audit.who')}}</label>
      <select id="a-user" name="user"><option value="">{{_('audit.user_any')}}</option>
      % for u in choices['users']:
        <option value="{{u}}" {{'selected' if u == args.get('user') else ''}}>{{u}}</option>
      % end
      </select></div>
    <div class="field"><label for="a-from">{{_('calls.from')}}</label>
      <input id="a-from" name="from" type="date" value="{{args.get('from', '')}}"></div>
    <div class="field"><label for="a-to">{{_('calls.to')}}</label>
      <input id="a-to" name="to" type="date" value="{{args.get('to', '')}}"></div>
    <button class="primary">{{_('audit.filter')}}</button>
  </form>
  <table class="list" id="audit">
    <thead><tr><th>{{_('audit.at')}}</th><th>{{_('audit.who')}}</th><th>{{_('audit.action')}}</th><th>{{_('audit.object')}}</th><th>{{_('audit.detail')}}</th></tr></thead>
    <tbody>
    % for r in rows:
      % action, kind = r['action'], r['object_type']
      <tr><td class="mono nowrap">{{when(r['at'], True)}}</td><td>{{r['username']}}</td>
        <td><span class="action {{action}}">{{label('audit_action', action)}}</span></td>
        <td>{{label('kind', kind)}} <strong>{{r['object_id']}}</strong></td>
        <td class="small detail">
        % for name, value in summary(kind, r['detail'], action):
          <span class="change">{{name + '：' if name and lang == 'zh_CN' else (name + ': ' if name else '')}}{{value}}</span><br>
        % end
        </td></tr>
    % end
    % if not rows:
      <tr class="empty"><td colspan="5">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  <p class="hint">{{_('times.office', tz=office_tz())}}</p>
  % if pages > 1:
  <nav class="pager" aria-label="{{_('crm.pages')}}">
    % if page > 1:
    <a href="{{page_url(page - 1)}}" rel="prev">‹ {{_('crm.previous')}}</a>
    % end
    <span class="muted">{{_('crm.page_of', page=page, pages=pages)}}</span>
    % if page < pages:
    <a href="{{page_url(page + 1)}}" rel="next">{{_('crm.next')}} ›</a>
    % end
  </nav>
  % end
</section>
