% rebase('base.tpl', title=_('backup.title'))
% include('config_tabs.tpl')
<div class="page-head"><h1>{{_('backup.title')}}</h1></div>
% if problem:
<p class="alert" role="alert" id="backup-problem">{{error_message(problem['code'], problem['status'], problem.get('params'))}}
% if problem['code'] in ('backup.failed', 'backup.restore_failed'):
<span class="small">{{_('error.detail')}}: {{problem['detail']}}</span>
% end
</p>
% end
% if made:
<p class="notice" role="status" id="backup-made">{{_('backup.made', name=made)}} <a href="/admin/backup/files/{{made}}" id="backup-made-download">{{_('backup.download')}}</a></p>
% end
% if restored:
<p class="notice" role="status" id="backup-restored">{{_('backup.restored', name=restored['name'], level=restored.get('from_level'), made=when(restored.get('made_at')), host=restored.get('host') or '?')}}</p>
<p class="notice" role="status">{{_('backup.restored_sign_in')}} <a href="/login">{{_('backup.sign_in')}}</a></p>
% end
<section class="card" id="backup-now">
  <h2>{{_('backup.now')}}</h2>
  <p class="small muted">{{_('backup.what')}}</p>
  <form method="post" action="/admin/backup">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label><input type="checkbox" name="media" id="media"> {{_('backup.media', size='%.1f MiB' % (media_bytes / 1048576.0))}}</label>
    <div class="actions"><button id="backup-make">{{_('backup.make')}}</button></div>
  </form>
</section>
<section class="card" id="backup-scheduled">
  <h2>{{_('backup.scheduled')}}</h2>
  % if saved:
  <p class="notice" role="status" id="backup-schedule-saved">{{_('backup.schedule_saved')}}</p>
  % end
  <p id="backup-schedule">
  % if schedule == 'off':
  {{_('backup.schedule_off')}}
  % else:
  {{_('backup.schedule_on', every=_('backup.every.' + schedule), keep=keep, folder=scheduled_to)}}
  <span id="backup-next">{{_('backup.next_now') if next_now else _('backup.next_at', at=when(next_run))}}</span>
  % end
  </p>
  <p class="small muted" id="backup-where">{{_('backup.schedule_where')}} <code translate="no">{{scheduled_to}}</code></p>
  <form method="post" action="/admin/backup/schedule" class="grid" id="backup-schedule-form" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field {{'has-error' if 'schedule' in errors else ''}}">
      <label for="schedule">{{_('backup.schedule_field')}}</label>
      <select id="schedule" name="schedule">
      % for choice in ('off', 'daily', 'weekly'):
        <option value="{{choice}}" {{'selected' if asked.get('schedule') == choice else ''}}>{{_('backup.schedule.' + choice)}}</option>
      % end
      </select>
      % if 'schedule' in errors:
      <em class="field-error">{{field_error(errors['schedule'])}}</em>
      % end
    </div>
    <div class="field {{'has-error' if 'keep' in errors else ''}}">
      <label for="keep">{{_('backup.keep_field')}}</label>
      <input id="keep" name="keep" type="number" min="1" max="365" value="{{asked.get('keep', '')}}" aria-describedby="keep-help">
      <small id="keep-help" class="muted">{{_('backup.keep_help')}}</small>
      % if 'keep' in errors:
      <em class="field-error">{{field_error(errors['keep'])}}</em>
      % end
    </div>
    <div class="actions"><button id="backup-schedule-save">{{_('backup.schedule_save')}}</button></div>
  </form>
</section>
<section class="card" id="backup-restore">
  <h2>{{_('backup.restore')}}</h2>
  <p class="small muted">{{_('backup.restore_what', size='%d MiB' % (upload_limit_bytes // 1048576))}}</p>
  <form method="post" action="/admin/backup/restore" enctype="multipart/form-data">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field"><label for="file">{{_('backup.file')}}</label><input type="file" name="file" id="file" accept=".gz,application/gzip"></div>
    <label><input type="checkbox" name="confirm" id="confirm"> {{_('backup.confirm')}}</label>
    <div class="actions"><button id="backup-restore-go" class="danger">{{_('backup.restore_go')}}</button></div>
  </form>
</section>
<section class="card" id="backup-runs">
  <h2>{{_('backup.runs')}}</h2>
  % if not items:
  <p class="muted">{{_('backup.none')}}</p>
  % else:
  <table class="list">
    <thead><tr><th>{{_('backup.col.at')}}</th><th>{{_('backup.col.kind')}}</th><th>{{_('backup.col.file')}}</th><th>{{_('backup.col.size')}}</th><th>{{_('backup.col.outcome')}}</th><th>{{_('backup.col.who')}}</th></tr></thead>
    <tbody>
    % for run in items:
    <tr class="backup-run">
      <td>{{when(run.get('at'), True)}}</td>
      <td>{{_('backup.kind.' + run.get('kind', 'backup'))}}{{' + ' + _('backup.with_media') if run.get('media') else ''}}</td>
      <td>
      % if run.get('present') and run.get('kind') != 'restore':
      <a href="/admin/backup/files/{{run['name']}}">{{run['name']}}</a>
      % else:
      {{run.get('name', '')}}
      % end
      </td>
      <td class="num" data-bytes="{{run.get('size', 0)}}">{{'%.1f MiB' % (run.get('size', 0) / 1048576.0) if run.get('size', 0) >= 104858 else '%.0f KiB' % (run.get('size', 0) / 1024.0)}}</td>
      <td>{{_('backup.outcome.' + run.get('outcome', 'failed'))}}
      % if run.get('code'):
      <span class="small muted">{{_(run['code'], **(run.get('params') or {}))}}</span>
      % elif run.get('error'):
      <span class="small muted">{{run['error']}}</span>
      % end
      </td>
      <td>{{run.get('actor', '')}}</td>
    </tr>
    % end
    </tbody>
  </table>
  % end
</section>
