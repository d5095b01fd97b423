% rebase('base.tpl', title=_('nav.calls'))
<div class="page-head">
  <h1>{{_('nav.calls')}}</h1><span class="muted">{{_('calls.count', n=result['total'])}}</span>
  <a class="button" href="{{export_url}}">{{_('calls.export')}}</a>
</div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
<section class="card">
  <form method="get" action="/calls" class="row search" role="search">
    <div class="field"><label for="c-from">{{_('calls.from')}}</label>
      <input id="c-from" name="from" type="date" value="{{args['from']}}"></div>
    <div class="field"><label for="c-to">{{_('calls.to')}}</label>
      <input id="c-to" name="to" type="date" value="{{args['to']}}"></div>
    <div class="field grow"><label for="c-number">{{_('calls.number')}}</label>
      <input id="c-number" name="number" value="{{args['number']}}" maxlength="40"></div>
    <div class="field"><label for="c-agent">{{_('calls.col.agent')}}</label>
      <select id="c-agent" name="agent"><option value="">{{_('crm.any')}}</option>
      % for a in agents:
        <option value="{{a['number']}}" {{'selected' if a['number'] == args['agent'] else ''}}>{{a['number']}} {{a['name']}}</option>
      % end
      </select></div>
    <div class="field"><label for="c-queue">{{_('calls.col.queue')}}</label>
      <select id="c-queue" name="queue"><option value="">{{_('crm.any')}}</option>
      % for q in queues:
        <option value="{{q}}" {{'selected' if q == args['queue'] else ''}}>{{queue_names.get(q, q)}}</option>
      % end
      </select></div>
    <div class="field"><label for="c-direction">{{_('calls.col.direction')}}</label>
      <select id="c-direction" name="direction"><option value="">{{_('crm.any')}}</option>
      % for d in directions:
        <option value="{{d}}" {{'selected' if d == args['direction'] else ''}}>{{_('direction.' + d)}}</option>
      % end
      </select></div>
    <div class="field"><label for="c-disposition">{{_('calls.col.disposition')}}</label>
      <select id="c-disposition" name="disposition"><option value="">{{_('crm.any')}}</option>
      % for d in dispositions:
        <option value="{{d}}" {{'selected' if d == args['disposition'] else ''}}>{{_('disposition.' + d)}}</option>
      % end
      </select></div>
    <button class="primary">{{_('crm.search_button')}}</button>
  </form>
</section>
<section class="card">
  <div class="table-wrap">
  <table class="list" id="calls">
    <thead><tr><th>{{_('calls.col.enter_time')}}</th><th>{{_('calls.col.direction')}}</th><th>{{_('calls.col.caller')}}</th>
      <th>{{_('calls.col.queue')}}</th><th>{{_('calls.col.agent')}}</th><th>{{_('calls.col.disposition')}}</th>
      <th class="num">{{_('calls.col.wait_seconds')}}</th><th class="num">{{_('calls.col.talk_seconds')}}</th>
      <th>{{_('calls.col.outcome')}}</th><th>{{_('calls.col.recording')}}</th></tr></thead>
    <tbody>
    % for c in result['items']:
      <tr>
        <td class="nowrap"><a href="/calls/{{c['linkedid']}}">{{when(c['enter_time'], True)}}</a></td>
        <td>{{_('direction.' + c['direction'])}}</td>
        <td>{{c['caller']}} <span class="muted">{{c['caller_name']}}</span></td>
        <td>{{queue_names.get(c['queue'], c['queue']) if c['queue'] else ''}}</td><td>{{c['agent']}}</td>
        <td>{{_('disposition.' + c['disposition'])}}</td>
        <td class="num">{{secs(c['wait_seconds'])}}</td><td class="num">{{secs(c['talk_seconds'])}}</td>
        <td>{{outcome_names.get(c['outcome'], c['outcome']) if c['outcome'] else ''}}</td>
        <td>{{_('calls.recording.' + c['recording']) if c['recording'] in recording_states else (c['recording'] or '—')}}</td>
      </tr>
    % end
    % if not result['items']:
      <tr class="empty"><td colspan="10">{{_('calls.none')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
  <p class="hint">{{_('times.office', tz=office_tz())}}</p>
  % if result['pages'] > 1:
  <nav class="pager" aria-label="{{_('crm.pages')}}">
    % if result['page'] > 1:
    <a href="{{page_url(result['page'] - 1)}}" rel="prev">‹ {{_('crm.previous')}}</a>
    % end
    <span class="muted">{{_('crm.page_of', page=result['page'], pages=result['pages'])}}</span>
    % if result['page'] < result['pages']:
    <a href="{{page_url(result['page'] + 1)}}" rel="next">{{_('crm.next')}} ›</a>
    % end
  </nav>
  % end
</section>
<section class="card" id="refusals">
  <h2>{{_('compliance.refusals')}}</h2>
  % include('call_refusals.tpl', refusals=refusals)
</section>
