% rebase('base.tpl', title=_('crm.import'))
<p class="crumbs"><a href="/customers">{{_('nav.customers')}}</a> › {{_('crm.import')}}</p>
<div class="page-head"><h1>{{_('crm.import')}}</h1></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem.get('params'))}} <span class="small">{{_('error.detail')}}: {{field_error(problem['detail'])}}</span></p>
% end
% if imported is not None:
<p class="notice" role="status" id="imported">{{_('crm.imported', n=imported)}} <a href="/customers">{{_('nav.customers')}}</a></p>
% if rejected:
<p class="notice" id="rejected"><a class="button primary" id="rejected-download" href="/customers/import/{{token}}/rejected" download>{{_('import.rejected_download', n=rejected)}}</a>
  <span class="hint">{{_('import.rejected_help')}}</span></p>
% end
% end
% if mapping:
<section class="card" id="mapping-step">
  <h2>{{_('import.mapping_title')}}</h2>
  <p class="hint">{{mapping['name']}} · {{_('import.mapping_help')}}</p>
  % if mapping['remembered']:
  <p class="notice" id="remembered">{{_('import.mapping_remembered')}}</p>
  % end
  <form method="post" action="/customers/import/{{token}}/check" id="mapping">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="table-wrap">
    <table class="list">
      <thead><tr><th>{{_('import.file_column')}}</th><th>{{_('import.field')}}</th><th>{{_('import.sample')}}</th></tr></thead>
      <tbody>
      % for i, header in enumerate(mapping['headers']):
        % chosen = mapping['columns'][i] if i < len(mapping['columns']) else None
        <tr data-column="{{i}}"><td><label for="m-{{i}}">{{header or ''}}</label></td>
          <td><select id="m-{{i}}" name="column.{{i}}">
            <option value="">{{_('import.ignore')}}</option>
            % for key, label in mapping['choices']:
            <option value="{{key}}" {{'selected' if key == chosen else ''}}>{{label}}</option>
            % end
          </select>
          % if header and not chosen:
          <span class="hint warn">{{_('import.not_matched')}}</span>
          % end
          </td>
          <td class="small">{{' · '.join(str(row[i]) for row in mapping['sample'] if i < len(row) and row[i] not in (None, ''))}}</td></tr>
      % end
      </tbody>
    </table>
    </div>
    <div class="row">
      <button class="primary">{{_('import.check')}}</button>
      <a class="button" href="/customers/import">{{_('crm.import_cancel')}}</a>
    </div>
  </form>
</section>
% end
% if report:
<section class="card" id="report">
  <h2>{{_('crm.import_checked', rows=report['rows'], valid=report['valid_rows'], errors=report['error_count'])}}</h2>
  % if report['ok']:
  <form method="post" action="/customers/import/{{token}}" class="row" id="confirm">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="mode" value="all">
    <button class="primary">{{_('crm.import_confirm', n=report['rows'])}}</button>
    <a class="button" href="/customers/import">{{_('crm.import_cancel')}}</a>
  </form>
  <p class="hint">{{_('crm.import_all_or_nothing')}}</p>
  % else:
  % if token and report['valid_rows'] > 0:
  <p class="alert">{{_('import.fix_or_good_rows')}}</p>
  <form method="post" action="/customers/import/{{token}}" class="row" id="import-good">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="mode" value="good">
    <button>{{_('import.good_rows', n=report['valid_rows'], bad=report['rows'] - report['valid_rows'])}}</button>
  </form>
  <p class="hint">{{_('import.good_rows_help')}}</p>
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
  % if token:
  <p><a href="/customers/import/{{token}}" id="change-mapping">{{_('import.change_mapping')}}</a></p>
  % end
  % if report['preview']:
  <h2>{{_('crm.preview')}}</h2>
  <div class="table-wrap">
  <table class="list" id="preview">
    <thead><tr><th class="num">{{_('crm.row')}}</th>
    % for c in report['columns']:
      <th>{{report['headers'].get(c, c)}}</th>
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
    <button class="primary">{{_('import.upload')}}</button>
  </form>
  <p class="hint">{{_('import.upload_help')}}</p>
  <p><a class="button" id="template" href="/customers/import/template" download>{{_('import.template')}}</a>
    <span class="hint">{{_('import.template_help')}}</span></p>
</section>
