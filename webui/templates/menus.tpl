% rebase('base.tpl', title=_('kind.menus'))
% include('config_tabs.tpl')
% can_edit = user['role'] == 'admin'
% languages = {'zh_CN': _('choice.menus.language.zh_CN'), 'en': _('choice.menus.language.en')}
% sources = {'upload': _('menus.source_upload'), 'sound': _('menus.source_sound'), 'builtin': _('menus.source_builtin')}
<div class="page-head"><h1>{{_('kind.menus')}}</h1><span class="muted">{{_('admin.count', n=len(rows))}}</span></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
% for row in rows:
<section class="card">
  <h2><a href="/admin/menus/{{row['name']}}">{{row['display_name'] or row['name']}}</a>
    % if row['display_name']:
    <span class="muted small">{{row['name']}}</span>
    % end
    <span class="flag {{'yes' if row['live'] else 'no'}}">{{_('field.menus.live') if row['live'] else _('menus.draft')}}</span>
    % if row['skip']:
    <span class="flag no">{{_('field.menus.skip')}}</span>
    % end
  </h2>
  <p class="muted">{{row['description']}} · {{languages.get(row['language'], row['language'])}} · {{_('field.menus.prompt')}}: {{row['prompt'] or '—'}} ·
    {{_('menus.leads_in')}}: {{', '.join([d['did'] + ' (' + _('menus.when_' + d['when']) + ')' for d in row['leads_in']['dids']] + row['leads_in']['menus']) or '—'}}</p>
  % include('menu_tree.tpl', node=trees[row['name']])
</section>
% end
% if not rows:
<section class="card"><p>{{_('admin.none_yet')}}</p></section>
% end
% if can_edit:
<section class="card">
  <h2>{{_('admin.add_menus')}}</h2>
  % include('config_form.tpl', action='/admin/menus', submit=_('admin.create'))
</section>
% end
<section class="card">
  <h2>{{_('kind.prompts')}}</h2>
  <div class="table-wrap"><table class="list">
    <thead><tr><th>{{_('menus.number')}}</th><th>{{_('field.prompts.name')}}</th><th>{{_('field.prompts.language')}}</th><th>{{_('field.prompts.description')}}</th>
      <th>{{_('menus.source')}}</th><th>{{_('menus.duration')}}</th><th>{{_('menus.level')}}</th><th>{{_('menus.used_by')}}</th><th></th></tr></thead>
    <tbody>
    % for p in prompts:
      <tr class="{{'' if p['present'] else 'has-error'}}"><td>{{p['number']}}</td><td><strong translate="no">{{p['display_name'] or p['name']}}</strong>
        % if p['display_name']:
        <span class="muted small" translate="no">{{p['name']}}</span>
        % end
        </td><td>{{languages.get(p['language'], p['language'])}}</td><td lang="{{'zh-CN' if p['language'] == 'zh_CN' else p['language']}}">{{p['description']}}</td>
        <td>{{sources.get(p['source'], p['source'])}}<span translate="no">{{' (' + p['sound'] + ')' if p['sound'] else ''}}</span>{{'' if p['present'] else ' ⚠ ' + _('menus.audio_missing')}}</td>
        <td>{{secs(p['duration_seconds']) if p['duration_seconds'] else '—'}}</td>
        <td>{{'%s dBFS' % p['peak_dbfs'] if p['peak_dbfs'] is not None else '—'}}</td>
        <td>{{', '.join(_('labels.used_by.survey', name=u[6:-9]) if u.endswith(' (survey)') else _('labels.used_by.menu', name=u[5:]) if u.startswith('menu ') else u for u in p['used_by']) or '—'}}</td>
        <td class="actions">
        % if can_edit and not p['used_by']:
          <form method="post" action="/admin/prompts/{{p['name']}}/delete" class="inline" data-confirm="{{_('admin.confirm_delete', what=p['name'])}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('admin.delete')}}</button>
          </form>
        % end
        </td></tr>
    % end
    </tbody>
  </table></div>
  % if can_edit:
  <p class="hint">{{_('menus.record_by_phone', code=record_code)}}</p>
  <h3>{{_('menus.upload')}}</h3>
  <form method="post" action="/admin/prompts" enctype="multipart/form-data" class="grid">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field"><label for="p-display-name">{{_('field.prompts.display_name')}}</label><input id="p-display-name" name="display_name" maxlength="64"></div>
    <div class="field"><label for="p-name">{{_('field.prompts.name')}}</label><input id="p-name" name="name" maxlength="32">
      <small class="hint">{{_('help.prompts.name')}}</small></div>
    <div class="field"><label for="p-desc">{{_('field.prompts.description')}}</label><input id="p-desc" name="description" maxlength="128"></div>
    <div class="field"><label for="p-lang">{{_('field.prompts.language')}}</label>
      <select id="p-lang" name="language"><option value="zh_CN">中文</option><option value="en">English</option></select></div>
    <div class="field"><label for="p-file">{{_('menus.file')}} *</label><input type="file" id="p-file" name="file" accept=".wav,.mp3,audio/wav,audio/mpeg">
      <small class="hint">{{_('menus.upload_hint')}}</small></div>
    <div class="buttons"><button class="primary">{{_('menus.upload')}}</button></div>
  </form>
  % end
</section>
