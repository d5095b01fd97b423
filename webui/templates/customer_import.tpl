% rebase('base.tpl', title=_('crm.import'))
<p class="crumbs"><a href="/customers">{{_('nav.customers')}}</a> › {{_('crm.import')}}</p>
<div class="page-head"><h1>{{_('crm.import')}}</h1></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{field_error(problem['detail'])}}</span></p>
% end
% if imported is not None:
<p class="notice" role="status" id="imported">{{_('crm.imported', n=imported)}} <a href="/customers">{{_('nav.customers')}}</a></p>
% end
% if report:
<section class="card" id="report">
  <h2>{{_('crm.import_checked', rows=report['rows'], valid=report['valid_rows'], errors=report['error_count'])}}</h2>
  % if report['ok']:
  <form method="post" action="/customers/import/{{token}}" class="row" id="confirm">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <button class="primary">{{_('crm.import_confirm', n=report['rows'])}}</button>
    <a class="button" href="/customers/import">{{_('crm.import_cancel')}}</a>
  </form>
  <p class="hint">{{_('crm.import_all_or_nothing')}}</p>
  % else:
  <p class="alert">{{_('crm.import_fix')}}</p>
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
  % if report['preview']:
  <h2>{{_('crm.preview')}}</h2>
  <div class="table-wrap">
  <table class="list" id="preview">
    <thead><tr><th class="num">{{_('crm.row')}}</th>
    % for c in report['columns']:
      <th>{{c}}</th>
    % end
    </tr></thead>
    <tbody>
    % for r in report['preview']:
      <tr><td class="num">{{r['row']}}</td>
      % for c in report['columns']:
        <td>{{'' if r.get(c) is None else r.get(c)}}</td>
      % end
      </tr>
    % end
    </tbody>
  </table>
  </div>
  % end
</section>
% end
<section class="card">
  <h2>{{_('crm.import_upload')}}</h2>
  <form method="post" action="/customers/import" enctype="multipart/form-data" class="row" id="upload">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field"><label for="i-file">{{_('crm.import_file')}}</label>
      <input id="i-file" type="file" name="file" accept=".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"></div>
    <button class="primary">{{_('crm.import_check')}}</button>
  </form>
  <p class="hint">{{_('crm.import_help', columns=', '.join(columns))}}</p>
</section>
