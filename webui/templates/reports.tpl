% rebase('base.tpl', title=_('reports.kind.' + kind))
<link rel="stylesheet" href="/static/reports.css">
<div class="page-head">
  <h1>{{_('reports.kind.' + kind)}}</h1>
  % if spec:
  <span class="muted" id="report-range">{{' · '.join(filter_lines)}}</span>
  <a class="button" id="report-export" href="{{export_url}}">{{_('reports.export')}}</a>
  <button type="button" id="report-print" class="small">{{_('reports.print')}}</button>
  % end
</div>
<nav class="tabs report-tabs" aria-label="{{_('nav.reports')}}">
% for k in kinds:
  <a href="/reports/{{k}}" class="{{'on' if k == kind else ''}}">{{_('reports.kind.' + k)}}</a>
% end
% if staff:
  <a href="/reports/schedules">{{_('reports.schedules')}}</a>
% end
</nav>
<section class="card report-filter">
  <form method="get" action="/reports/{{kind}}" class="row search" id="report-form">
    <div class="field"><label for="r-from">{{_('reports.from')}}</label>
      <input id="r-from" name="from" type="date" value="{{args['from'] or (spec['from'].isoformat() if spec else '')}}"></div>
    <div class="field"><label for="r-to">{{_('reports.to')}}</label>
      <input id="r-to" name="to" type="date" value="{{args['to'] or (spec['to'].isoformat() if spec else '')}}"></div>
    % if kind == 'traffic':
    <div class="field"><label for="r-grain">{{_('reports.grain')}}</label>
      <select id="r-grain" name="grain">
      % for g in grains:
        <option value="{{g}}" {{'selected' if g == (args['grain'] or 'day') else ''}}>{{_('reports.grain.' + g)}}</option>
      % end
      </select></div>
    % end
    % if staff and not agent_only:
    <div class="field"><label for="r-queue">{{_('reports.col.queue')}}</label>
      <select id="r-queue" name="queue"><option value="">{{_('crm.any')}}</option>
      % for q in sorted(set(queues) | ({args['queue']} if args['queue'] else set())):
        <option value="{{q}}" {{'selected' if q == args['queue'] else ''}}>{{q}}</option>
      % end
      </select></div>
    <div class="field"><label for="r-did">{{_('reports.col.did')}}</label>
      <input id="r-did" name="did" value="{{args['did']}}" maxlength="32" size="10"></div>
    % end
    % if staff:
    <div class="field"><label for="r-agent">{{_('reports.col.agent')}}</label>
      <select id="r-agent" name="agent"><option value="">{{_('crm.any')}}</option>
      % for a in agents:
        <option value="{{a['number']}}" {{'selected' if a['number'] == args['agent'] else ''}}>{{a['number']}} {{a['name']}}</option>
      % end
      </select></div>
    % end
    % if staff and team_filter:
    <div class="field"><label for="r-team">{{_('reports.field.team')}}</label>
      <select id="r-team" name="team"><option value="">{{_('crm.any')}}</option>
      % for q in sorted(set(teams) | ({args['team']} if args['team'] else set())):
        <option value="{{q}}" {{'selected' if q == args['team'] else ''}}>{{q}}</option>
      % end
      </select></div>
    % end
    % if staff and not agent_only:
    <div class="field"><label for="r-direction">{{_('reports.col.direction')}}</label>
      <select id="r-direction" name="direction"><option value="">{{_('crm.any')}}</option>
      % for d in directions:
        <option value="{{d}}" {{'selected' if d == args['direction'] else ''}}>{{label('direction', d)}}</option>
      % end
      </select></div>
    % end
    <div class="field"><button>{{_('reports.show')}}</button></div>
  </form>
  % if problem:
  <div class="alert" role="alert" id="report-problem">
    % for name, text in problem:
    <p>{{_('reports.field.' + name) if name in ('from', 'to', 'grain', 'queue', 'did', 'agent', 'direction', 'team') else name}}: {{text}}</p>
    % end
  </div>
  % end
  % for n in notices:
  <p class="notice" id="report-notice">{{n}}</p>
  % end
</section>
% if spec:
<section class="card report-chart-card">
  <div id="report-chart" class="report-chart" data-lang="{{lang}}"></div>
  <script type="application/json" id="report-chart-data">{{!chart_json.replace('</', '<\\/')}}</script>
</section>
% for t in tables:
<section class="card">
  % if t['title']:
  <h2>{{t['title']}}</h2>
  % end
  <div class="table-wrap">
  <table class="list report-table"><thead><tr>
  % for key, head, how in t['columns']:
    <th class="{{'num' if how not in ('text', 'call', 'bool') else ''}}">{{head}}</th>
  % end
  </tr></thead><tbody>
  % if not t['rows']:
    <tr class="empty"><td colspan="{{len(t['columns'])}}">{{_('reports.empty')}}</td></tr>
  % end
  % for row in t['rows'] + ([t['totals']] if t['totals'] else []):
    <tr class="{{'total' if t['totals'] is row else ''}}">
    % for value, (key, head, how) in zip(row, t['columns']):
      % if value is None:
      <td class="num">—</td>
      % elif how == 'percent':
      <td class="num">{{'%.1f%%' % (value * 100)}}</td>
      % elif how == 'money':
      <td class="num">{{'%.2f' % value}}</td>
      % elif how == 'seconds':
      <td class="num">{{secs(value)}}</td>
      % elif how in ('int', 'number'):
      <td class="num">{{value}}</td>
      % elif how == 'bool':
      <td>{{_('reports.yes') if value else _('reports.no')}}</td>
      % elif how == 'call':
      <td><a href="/calls/{{value}}">{{_('reports.open_call')}}</a></td>
      % else:
      <td>{{value}}</td>
      % end
    % end
    </tr>
  % end
  </tbody></table>
  </div>
</section>
% end
% end
<script src="/static/vendor/echarts/echarts.min.js"></script>
<script src="/static/reports.js"></script>
