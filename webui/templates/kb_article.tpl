% rebase('base.tpl', title=a['title'])
<p class="crumbs"><a href="/kb">{{_('kb.title')}}</a>
% if a['category']:
 › <a href="/kb?category={{a['category']['id']}}">{{a['category']['path']}}</a>
% end
</p>
<div class="page-head">
  <h1 id="kb-article-title">{{a['title']}}</h1>
  % if not a['published']:
  <span class="flag no">{{_('kb.draft')}}</span>
  % end
  % if editor:
  <a class="button" href="/kb/articles/{{a['id']}}/edit" id="kb-edit">{{_('kb.edit')}}</a>
  <form method="post" action="/kb/articles/{{a['id']}}/delete" class="inline" data-confirm="{{_('kb.confirm_delete', title=a['title'])}}">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <button class="danger">{{_('kb.delete')}}</button>
  </form>
  % end
</div>
<p class="muted small">{{_('kb.updated', who=a['updated_by'], at=when(a['updated_at']))}}
% for t in a['tags']:
 <a class="pill" href="/kb?tag={{t}}">#{{t}}</a>
% end
% if a['queues']:
 · {{_('kb.suggested_for')}} {{'、'.join(queue_names.get(q, q) for q in a['queues'])}}
% end
</p>
<article class="card kb-body" id="kb-body">
{{!a['body_html']}}
</article>
% if a['attachments']:
<section class="card" id="kb-files">
  <h2>{{_('kb.attachments')}}</h2>
  <ul>
  % for f in a['attachments']:
    <li><a href="{{f['url']}}" download>{{f['filename']}}</a> <span class="muted small">{{_('kb.size_kb', n=max(1, round(f['size'] / 1024)))}}</span></li>
  % end
  </ul>
</section>
% end
