% rebase('base.tpl', title=_('kb.edit') if a['id'] else _('kb.new'))
<p class="crumbs"><a href="/kb">{{_('kb.title')}}</a>
% if a['id']:
 › <a href="/kb/articles/{{a['id']}}">{{a['title']}}</a>
% end
</p>
<h1>{{_('kb.edit') if a['id'] else _('kb.new')}}</h1>
% include('kb_problem.tpl', problem=problem, kb_fields=tuple('kb.field.' + n for n in ('title', 'body', 'format', 'category', 'tags', 'queues', 'published', 'files', 'file')))
<form method="post" action="{{'/kb/articles/%d/edit' % a['id'] if a['id'] else '/kb/new'}}" enctype="multipart/form-data" class="card grid" id="kb-form">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  % if a.get('version'):
  <input type="hidden" name="version" value="{{a['version']}}">
  % end
  <div class="field wide"><label for="kb-title">{{_('kb.field.title')}} *</label>
    <input id="kb-title" name="title" maxlength="200" required value="{{a['title']}}"></div>
  <div class="field"><label for="kb-category-pick">{{_('kb.field.category')}}</label>
    <select id="kb-category-pick" name="category">
      <option value="">{{_('kb.no_category')}}</option>
      % chosen = str((a.get('category') or {}).get('id') or '')
      % for c in categories:
      <option value="{{c['id']}}" {{'selected' if chosen == str(c['id']) else ''}}>{{c['name']}}</option>
        % for s in c['children']:
      <option value="{{s['id']}}" {{'selected' if chosen == str(s['id']) else ''}}>&nbsp;&nbsp;{{c['name']}} / {{s['name']}}</option>
        % end
      % end
    </select></div>
  <div class="field"><label for="kb-tags">{{_('kb.field.tags')}}</label>
    <input id="kb-tags" name="tags" maxlength="700" value="{{', '.join(a['tags'])}}">
    <span class="hint">{{_('kb.tags_help')}}</span></div>
  <div class="field wide"><label for="kb-body-text">{{_('kb.field.body')}}</label>
    <textarea id="kb-body-text" name="body" rows="16" maxlength="50000">{{a['body']}}</textarea>
    <span class="hint">{{_('kb.markdown_help')}}</span></div>
  <div class="field"><label for="kb-format">{{_('kb.field.format')}}</label>
    <select id="kb-format" name="format">
      <option value="markdown" {{'selected' if a['format'] == 'markdown' else ''}}>{{_('kb.format.markdown')}}</option>
      <option value="text" {{'selected' if a['format'] == 'text' else ''}}>{{_('kb.format.text')}}</option>
    </select></div>
  <div class="field"><label><input type="checkbox" name="published" id="kb-published" {{'checked' if a['published'] else ''}}> {{_('kb.field.published')}}</label>
    <span class="hint">{{_('kb.published_help')}}</span></div>
  <fieldset class="field wide" id="kb-queues"><legend>{{_('kb.field.queues')}}</legend>
    % for name, shown in queues:
    <label class="check"><input type="checkbox" name="queues" value="{{name}}" {{'checked' if name in a['queues'] else ''}}> {{shown}}</label>
    % end
    <span class="hint">{{_('kb.queues_help')}}</span></fieldset>
  <div class="field wide"><label for="kb-files-pick">{{_('kb.add_files')}}</label>
    <input type="file" id="kb-files-pick" name="files" multiple>
    <span class="hint">{{_('kb.files_help', n=max_files, mb=max_mb)}}</span></div>
  <p class="wide"><button class="primary">{{_('kb.save')}}</button></p>
</form>
% if a['attachments']:
<section class="card" id="kb-files">
  <h2>{{_('kb.attachments')}}</h2>
  <ul>
  % for f in a['attachments']:
    <li><a href="{{f['url']}}" download>{{f['filename']}}</a> <span class="muted small">{{_('kb.size_kb', n=max(1, round(f['size'] / 1024)))}}</span>
      <form method="post" action="/kb/attachments/{{f['id']}}/delete" class="inline" data-confirm="{{_('kb.confirm_detach', name=f['filename'])}}">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <button class="small danger">{{_('kb.detach')}}</button>
      </form></li>
  % end
  </ul>
</section>
% end
