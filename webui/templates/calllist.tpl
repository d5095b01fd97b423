% rebase('base.tpl', title=row['display_name'])
<p class="crumbs"><a href="/campaigns">{{_('campaigns.title')}}</a> › <a href="/calllists">{{_('calllists.title')}}</a> › {{row['display_name']}}</p>
<div class="page-head"><h1>{{row['display_name']}}</h1>
  <span class="flag {{'yes' if row['state'] == 'active' else 'no'}}" id="list-state">{{_('calllists.state.' + row['state'])}}</span>
  <span class="muted">{{_('calllists.counts', n=row['entries'], pending=row['by_state'].get('pending', 0), done=row['by_state'].get('done', 0))}}</span></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem.get('params'))}} <span class="small">{{_('error.detail')}}: {{field_error(problem['detail'])}}</span></p>
% end
% if recycled is not None:
<p class="notice" role="status" id="recycled">{{_('calllists.recycled', n=recycled)}}</p>
% end
<section class="card row" id="list-actions">
  <form method="post" action="/calllists/{{row['id']}}/state" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % if row['state'] == 'active':
    <button name="state" value="paused" id="list-pause">{{_('calllists.pause')}}</button>
    % else:
    <button name="state" value="active" id="list-resume">{{_('calllists.resume')}}</button>
    % end
  </form>
  <form method="post" action="/calllists/{{row['id']}}/recycle" class="inline" data-confirm="{{_('calllists.confirm_recycle')}}">
    <input type="hidden" name="csrf_token" value="{{csrf}}"><button id="list-recycle">{{_('calllists.recycle')}}</button>
  </form>
  <a class="button" href="/calllists/{{row['id']}}/export" id="list-export" download>{{_('calllists.export')}}</a>
  <span class="hint">{{_('calllists.recycle_help')}}</span>
</section>
% if imported is not None:
<p class="notice" role="status" id="imported">{{_('calllists.imported', n=imported)}}</p>
% if rejected:
<p class="notice" id="rejected"><a class="button primary" id="rejected-download" href="/calllists/{{row['id']}}/import/{{token}}/rejected" download>{{_('import.rejected_download', n=rejected)}}</a>
  <span class="hint">{{_('import.rejected_help')}}</span></p>
% end
% end
% if mapping:
<section class="card" id="mapping-step">
  <h2>{{_('calllists.mapping_title')}}</h2>
  <p class="hint">{{mapping['name']}} · {{_('calllists.mapping_help')}}</p>
  <form method="post" action="/calllists/{{row['id']}}/import/{{token}}/check" id="mapping" class="grid">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field"><label for="m-phone">{{_('calllists.phone_column')}} *</label>
      <select id="m-phone" name="phone_column">
      % for i, header in enumerate(mapping['headers']):
        <option value="{{i}}" {{'selected' if i == mapping['phone_column'] else ''}}>{{header or '#' + str(i + 1)}}</option>
      % end
      </select></div>
    <div class="field"><label for="m-name">{{_('calllists.name_column')}}</label>
      <select id="m-name" name="name_column"><option value="">{{_('import.ignore')}}</option>
      % for i, header in enumerate(mapping['headers']):
        <option value="{{i}}" {{'selected' if i == mapping['name_column'] else ''}}>{{header or '#' + str(i + 1)}}</option>
      % end
      </select></div>
    <div class="field"><label for="m-queue">{{_('calllists.assign_team')}}</label>
      <select id="m-queue" name="queue"><option value="">—</option>
      % for q in queues:
        <option value="{{q['name']}}" {{'selected' if mapping['queue'] == q['name'] else ''}}>{{q.get('display_name') or q['name']}}</option>
      % end
      </select></div>
    <div class="field"><label for="m-agents">{{_('calllists.assign_agents')}}</label>
      <input id="m-agents" name="agents" maxlength="500" value="{{mapping['agents']}}">
      <small class="hint">{{_('calllists.assign_help')}}</small></div>
    <div class="field"><label class="check"><input type="checkbox" name="create_customers" id="m-create" {{'checked' if mapping['create_customers'] else ''}}> {{_('calllists.create_customers')}}</label>
      <small class="hint">{{_('calllists.create_customers_help')}}</small></div>
    <div class="table-wrap">
    <table class="list" id="sample">
      <thead><tr>
      % for header in mapping['headers']:
        <th>{{header or ''}}</th>
      % end
      </tr></thead>
      <tbody>
      % for s in mapping['sample']:
        <tr>
        % for v in s:
          <td class="small">{{'' if v is None else v}}</td>
        % end
        </tr>
      % end
      </tbody>
    </table>
    </div>
    <div class="buttons"><button class="primary">{{_('import.check')}}</button>
      <a class="button" href="/calllists/{{row['id']}}">{{_('crm.import_cancel')}}</a></div>
  </form>
</section>
% end
% if report:
<section class="card" id="report">
  <h2>{{_('crm.import_checked', rows=report['rows'], valid=report['valid_rows'], errors=report['error_count'])}}</h2>
  % if report['ok']:
  <form method="post" action="/calllists/{{row['id']}}/import/{{token}}" class="row" id="confirm">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="mode" value="all">
    <button class="primary">{{_('calllists.import_confirm', n=report['rows'])}}</button>
  </form>
  <p class="hint">{{_('crm.import_all_or_nothing')}}</p>
  % else:
  % if token and report['valid_rows'] > 0:
  <p class="alert">{{_('import.fix_or_good_rows')}}</p>
  <form method="post" action="/calllists/{{row['id']}}/import/{{token}}" class="row" id="import-good">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="mode" value="good">
    <button>{{_('import.good_rows', n=report['valid_rows'], bad=report['rows'] - report['valid_rows'])}}</button>
  </form>
  % else:
  <p class="alert">{{_('crm.import_fix')}}</p>
  % end
  <div class="table-wrap report">
  <table class="list" id="errors">
    <thead><tr><th class="num">{{_('crm.row')}}</th><th>{{_('crm.column')}}</th><th>{{_('crm.problem')}}</th></tr></thead>
    <tbody>
    % for e in report['errors']:
      <tr><td class="num">{{e['row'] or ''}}</td><td>{{e['column']}}</td><td>{{field_error(e['message'])}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
  % if report['error_count'] > len(report['errors']):
  <p class="hint">{{_('crm.more_errors', n=report['error_count'] - len(report['errors']))}}</p>
  % end
  % end
</section>
% end
<section class="card">
  <h2>{{_('calllists.import')}}</h2>
  <form method="post" action="/calllists/{{row['id']}}/import" enctype="multipart/form-data" class="row" id="upload">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field"><label for="i-file">{{_('crm.import_file')}}</label>
      <input id="i-file" type="file" name="file" accept=".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"></div>
    <button class="primary">{{_('import.upload')}}</button>
  </form>
  <p class="hint">{{_('calllists.import_help')}}</p>
</section>
<section class="card">
  <h2>{{_('calllists.entries')}}</h2>
  <div class="table-wrap">
  <table class="list" id="entries">
    <thead><tr><th>{{_('calllists.number')}}</th><th>{{_('calllists.entry_name')}}</th><th>{{_('calllists.agent')}}</th>
      <th class="num">{{_('calllists.attempts')}}</th><th>{{_('calllists.last_result')}}</th><th>{{_('calllists.state')}}</th></tr></thead>
    <tbody>
    % for e in entries:
      <tr><td>{{e['number']}}</td>
        <td>{{!'<a href="/customers/%d">' % e['customer'] if e['customer'] else ''}}{{e['name']}}{{!'</a>' if e['customer'] else ''}}</td>
        <td>{{e['agent']}}</td><td class="num">{{e['attempts']}}</td>
        <td>{{_('calllists.result.' + e['last_result']) if e['last_result'] else ''}}</td>
        <td>{{_('calllists.entry_state.' + e['state'])}}</td></tr>
    % end
    % if not entries:
      <tr class="empty"><td colspan="6">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
  % if row['entries'] > len(entries):
  <p class="hint">{{_('calllists.more_entries', n=row['entries'] - len(entries))}}</p>
  % end
</section>
