% rebase('base.tpl', title=_('kind.menus') + ' · ' + menu['name'])
% include('config_tabs.tpl')
% can_edit = user['role'] == 'admin'
% # what a caller gets from an action, as the flow tree says it (a directory's target is only its busy queue)
% gets = lambda action, target: _('menus.action.' + action) + (' ' + target if target and action != 'directory' else '')
<div class="page-head"><h1><a href="/admin/menus">{{_('kind.menus')}}</a> · {{menu['display_name'] or menu['name']}}</h1>
  <span class="muted">{{menu['name'] if menu['display_name'] else ''}}</span>
  <span class="flag {{'yes' if menu['live'] else 'no'}}">{{_('field.menus.live') if menu['live'] else _('menus.draft')}}</span></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
% if menu['problems']:
<section class="card"><h2>{{_('menus.problems')}}</h2><ul>
  % for p in menu['problems']:
  <li class="alert">{{p}}</li>
  % end
</ul></section>
% end
<section class="card">
  <h2>{{_('menus.leads_in')}}</h2>
  <ul>
  % for d in menu['leads_in']['dids']:
    <li>DID <a href="/admin/dids">{{d['did']}}</a>: {{_('menus.when_' + d['when'])}}{{' (' + d['time_condition'] + ')' if d['time_condition'] else ''}}</li>
  % end
  % for other in menu['leads_in']['menus']:
    <li>{{_('kind.menus')}} <a href="/admin/menus/{{other}}">{{other}}</a></li>
  % end
  % if not menu['leads_in']['dids'] and not menu['leads_in']['menus']:
    <li class="muted">—</li>
  % end
  </ul>
</section>
<section class="card">
  <h2>{{_('menus.flow')}}</h2>
  % include('menu_tree.tpl', node=tree)
</section>
<section class="card">
  <h2>{{_('menus.keys')}}</h2>
  <div class="table-wrap"><table class="list">
    <thead><tr><th>{{_('menus.key')}}</th><th>{{_('menus.action')}}</th><th>{{_('menus.target')}}</th><th>{{_('menus.enabled')}}</th><th></th></tr></thead>
    <tbody>
    % for o in menu['options']:
      <tr><td><strong>{{o['digit']}}</strong></td><td>{{_('menus.action.' + o['action'])}}</td><td>{{o['target']}}</td>
        <td><span class="flag {{'yes' if o['enabled'] else 'no'}}">{{_('admin.yes') if o['enabled'] else _('menus.skipped')}}</span></td>
        <td class="actions">
        % if can_edit:
          <form method="post" action="/admin/menus/{{menu['name']}}/options" class="inline">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="digit" value="{{o['digit']}}">
            <input type="hidden" name="action" value="{{o['action']}}"><input type="hidden" name="target" value="{{o['target']}}">
            % if not o['enabled']:
            <input type="hidden" name="enabled" value="on">
            % end
            <button class="small">{{_('menus.skip_step') if o['enabled'] else _('menus.unskip_step')}}</button>
          </form>
          % if menu['live'] and o['enabled'] and not menu['skip']:
          %   confirm = _('menus.confirm_remove_live_key', digit=o['digit'], menu=menu['name'], now=gets(o['action'], o['target']), tries=menu['max_tries'], then=gets(menu['invalid_action'], menu['invalid_target']))
          % else:
          %   confirm = _('menus.confirm_remove_key', digit=o['digit'], menu=menu['name'])
          % end
          <form method="post" action="/admin/menus/{{menu['name']}}/options/{{o['digit'].replace('#', '%23')}}/delete" class="inline" data-confirm="{{confirm}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('admin.delete')}}</button>
          </form>
        % end
        </td></tr>
    % end
    </tbody>
  </table></div>
  % if can_edit:
  <form method="post" action="/admin/menus/{{menu['name']}}/options" class="grid">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field"><label for="o-digit">{{_('menus.key')}}</label><select id="o-digit" name="digit">
      % for d in digits:
      <option value="{{d}}">{{d}}</option>
      % end
    </select></div>
    <div class="field"><label for="o-action">{{_('menus.action')}}</label><select id="o-action" name="action">
      % for a in actions:
      <option value="{{a}}">{{_('menus.action.' + a)}}</option>
      % end
    </select></div>
    <div class="field"><label for="o-target">{{_('menus.target')}}</label>
      % include('choice_select.tpl', sid='o-target', name='target', options=refs.get('target', []), action_from='o-action', current='', action='', empty=True)
      <small class="hint">{{_('menus.target_hint')}}</small></div>
    <div class="field check"><label for="o-enabled">{{_('menus.enabled')}}</label><input type="checkbox" id="o-enabled" name="enabled" checked></div>
    <div class="buttons"><button class="primary">{{_('menus.add_step')}}</button></div>
  </form>
  % end
</section>
% if can_edit:
<section class="card">
  <h2>{{_('menus.settings')}}</h2>
  % include('config_form.tpl', action='/admin/menus/' + menu['name'], submit=_('menus.save'))
  <form method="post" action="/admin/menus/{{menu['name']}}/delete" class="inline" data-confirm="{{_('admin.confirm_delete', what=menu['name'])}}">
    <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('admin.delete')}}</button>
  </form>
</section>
% end
