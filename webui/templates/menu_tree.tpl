% # One menu's flow as nested lists (node from MenuService.tree); included recursively.
<ul class="tree">
% if node.get('missing'):
  <li class="alert">{{_('menus.missing', name=node['menu'])}}</li>
% elif node.get('again'):
  <li class="muted">↩ <a href="/admin/menus/{{node['menu']}}">{{node['menu']}}</a> {{_('menus.again')}}</li>
% else:
  % for step in node['steps']:
  <li><strong>{{_('menus.key_' + step['key']) if step['key'] in ('invalid', 'timeout') else step['key']}}</strong>
    → {{_('menus.action.' + step['action'])}} {{step['target']}}
    % shown_as = target_names.get(step['action'], {}).get(step['target'], step['target'])
    % if shown_as != step['target']:
    <span class="muted">{{shown_as}}</span>
    % end
    % if 'next' in step:
    <a href="/admin/menus/{{step['next']['menu']}}">{{step['next']['menu']}}</a>{{' (' + _('field.menus.skip') + ')' if step['next'].get('skip') else ''}}
    % include('menu_tree.tpl', node=step['next'])
    % end
  </li>
  % end
% end
</ul>
