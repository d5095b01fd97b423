% rebase('base.tpl', title=_('kb.categories'))
<p class="crumbs"><a href="/kb">{{_('kb.title')}}</a> › {{_('kb.categories')}}</p>
<h1>{{_('kb.categories')}}</h1>
% include('kb_problem.tpl', problem=problem, kb_fields=tuple('kb.field.' + n for n in ('name', 'parent', 'position')))
<section class="card">
  <table class="list" id="kb-category-list">
    <thead><tr><th>{{_('kb.field.name')}}</th><th>{{_('kb.field.parent')}}</th><th class="num">{{_('kb.field.position')}}</th><th class="num">{{_('kb.articles')}}</th><th></th></tr></thead>
    <tbody>
    % rows = [r for c in categories for r in [(c, None)] + [(s, c) for s in c['children']]]
    % for c, parent in rows:
      <tr data-id="{{c['id']}}">
        <td colspan="3">
          <form method="post" action="/kb/categories/{{c['id']}}" class="row">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <input name="name" maxlength="64" required value="{{c['name']}}" aria-label="{{_('kb.field.name')}}">
            <select name="parent" aria-label="{{_('kb.field.parent')}}">
              <option value="">{{_('kb.top_level')}}</option>
              % for p in categories:
                % if p['id'] != c['id']:
              <option value="{{p['id']}}" {{'selected' if parent and parent['id'] == p['id'] else ''}}>{{p['name']}}</option>
                % end
              % end
            </select>
            <input name="position" type="number" min="0" max="9999" value="{{c['position']}}" aria-label="{{_('kb.field.position')}}" class="narrow">
            <button class="small">{{_('kb.save')}}</button>
          </form></td>
        <td class="num">{{c['articles']}}</td>
        <td><form method="post" action="/kb/categories/{{c['id']}}/delete" class="inline" data-confirm="{{_('kb.confirm_delete_category', name=c['name'])}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button class="small danger">{{_('kb.delete')}}</button></form></td>
      </tr>
    % end
    % if not rows:
      <tr class="empty"><td colspan="5">{{_('kb.no_categories')}}</td></tr>
    % end
    </tbody>
  </table>
</section>
<form method="post" action="/kb/categories" class="card row" id="kb-category-new">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <h2>{{_('kb.add_category')}}</h2>
  <input name="name" id="kb-cat-name" maxlength="64" required placeholder="{{_('kb.field.name')}}" aria-label="{{_('kb.field.name')}}">
  <select name="parent" id="kb-cat-parent" aria-label="{{_('kb.field.parent')}}">
    <option value="">{{_('kb.top_level')}}</option>
    % for p in categories:
    <option value="{{p['id']}}">{{p['name']}}</option>
    % end
  </select>
  <button class="primary">{{_('kb.add')}}</button>
</form>
