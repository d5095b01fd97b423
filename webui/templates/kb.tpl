% rebase('base.tpl', title=_('kb.title'))
<div class="page-head">
  <h1>{{_('kb.title')}}</h1><span class="muted" id="kb-total">{{_('kb.count', n=found['total'])}}</span>
  % if editor:
  <a class="button primary" href="/kb/new" id="kb-new">{{_('kb.new')}}</a>
  <a class="button" href="/kb/categories">{{_('kb.categories')}}</a>
  % end
</div>
% include('kb_problem.tpl', problem=args.get('problem'), kb_fields=('kb.field.q',))
<form method="get" action="/kb" class="card row" id="kb-search" role="search">
  <input type="search" name="q" id="kb-q" maxlength="100" value="{{args['q']}}" placeholder="{{_('kb.search_placeholder')}}" aria-label="{{_('kb.search')}}">
  <select name="category" id="kb-category" aria-label="{{_('kb.category')}}">
    <option value="">{{_('kb.every_category')}}</option>
    % for c in categories:
    <option value="{{c['id']}}" {{'selected' if str(args['category'] or '') == str(c['id']) else ''}}>{{c['name']}}</option>
      % for s in c['children']:
    <option value="{{s['id']}}" {{'selected' if str(args['category'] or '') == str(s['id']) else ''}}>&nbsp;&nbsp;{{c['name']}} / {{s['name']}}</option>
      % end
    % end
  </select>
  % if args['tag']:
  <input type="hidden" name="tag" value="{{args['tag']}}"><span class="pill">#{{args['tag']}}</span>
  % end
  <button class="primary">{{_('kb.search')}}</button>
</form>
<section class="card">
  <ul class="kb-results" id="kb-results">
  % for a in found['items']:
    <li data-id="{{a['id']}}">
      <a class="kb-title" href="/kb/articles/{{a['id']}}">\\
% if a.get('title_parts'):
% include('kb_parts.tpl', parts=a['title_parts'])
% else:
{{a['title']}}\\
% end
</a>
      % if not a['published']:
      <span class="flag no">{{_('kb.draft')}}</span>
      % end
      <span class="muted small">{{a['category']['path'] if a['category'] else _('kb.no_category')}} · {{when(a['updated_at'])}}</span>
      % for t in a['tags']:
      <a class="pill" href="/kb?tag={{t}}">#{{t}}</a>
      % end
      % if a.get('snippet'):
      <p class="kb-snippet small">\\
% include('kb_parts.tpl', parts=a['snippet'])
</p>
      % end
    </li>
  % end
  % if not found['items']:
    <li class="empty muted">{{_('kb.none_found') if args['q'] else _('kb.none_yet')}}</li>
  % end
  </ul>
  % pages = (found['total'] + found['per_page'] - 1) // found['per_page']
  % if pages > 1:
  % import urllib.parse
  % page_url = lambda n: '/kb?' + urllib.parse.urlencode({'q': args['q'], 'category': args['category'] or '', 'tag': args['tag'], 'page': n})
  <nav class="pager" aria-label="{{_('crm.pages')}}">
    % if found['page'] > 1:
    <a href="{{page_url(found['page'] - 1)}}" rel="prev">‹ {{_('crm.previous')}}</a>
    % end
    <span class="muted">{{_('crm.page_of', page=found['page'], pages=pages)}}</span>
    % if found['page'] < pages:
    <a href="{{page_url(found['page'] + 1)}}" rel="next">{{_('crm.next')}} ›</a>
    % end
  </nav>
  % end
</section>
