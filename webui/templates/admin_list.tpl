% rebase('base.tpl', title=_('kind.' + kind))
% include('config_tabs.tpl')
% can_edit = user['role'] == 'admin'
% shown = [f for f in fields if not f.secret and f.name != 'display_name' and (columns is None or f.name in columns)]  # the display name goes with the key
% names = {f.name: {o[0]: o[1] for o in refs.get(f.name, [])} for f in shown if f.type == 'ref'}
% extra = 2 if kind == 'agents' else 1 if kind == 'queues' or registrations is not None else 0
% extra += 1 if provisioning is not None else 0
<div class="page-head"><h1>{{_('kind.' + kind)}}</h1><span class="muted">{{_('admin.count', n=len(rows))}}</span>
% if kind == 'agents' and can_edit:
  <a class="button primary" href="/admin/new-agent" id="new-agent">{{_('agents.new.link')}}</a>
% end
</div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
<section class="card">
  <div class="table-wrap">
  <table class="list">
    <thead><tr>
    % for f in shown:
      <th>{{_('field.' + kind + '.' + f.name)}}</th>
    % end
    % if kind == 'agents':
      <th>{{_('admin.queues')}}</th><th>{{_('admin.signed_in')}}</th>
    % elif kind == 'queues':
      <th class="num">{{_('admin.members')}}</th>
    % elif registrations is not None:
      <th>{{_('agents.reg.column')}}</th>
    % end
    % if provisioning is not None:
      <th>{{_('prov.column')}}</th>
    % end
      <th></th>
    </tr></thead>
    <tbody>
    % for row in rows:
      <tr>
      % for f in shown:
        % v = row.get(f.name)
        % if f.type == 'bool':
        <td><span class="flag {{'yes' if v else 'no'}}">{{_('admin.yes') if v else _('admin.no')}}</span></td>
        % elif f.choices or f.options == 'music_classes':
        <td>{{choice(kind, f.name, v)}}</td>
        % elif f.name == key:
        % shown_as = next((row.get(n) for n in name_fields if row.get(n)), v) if 'display_name' in name_fields else v
        <td>
          % if can_edit:
          <a href="/admin/{{kind}}/{{v}}"><strong>{{shown_as}}</strong></a>
          % else:
          <strong>{{shown_as}}</strong>
          % end
          % if shown_as != v:
          <span class="muted small">{{v}}</span>
          % end
        </td>
        % elif f.type == 'ref':
        % shown_as = names[f.name].get(v, v) if v is not None else ''
        <td>{{shown_as if shown_as == (v or '') else shown_as + ' (' + v + ')'}}</td>
        % elif f.options == 'week':
        <td>{{week_words(v)}}</td>
        % else:
        <td>{{'' if v is None else choice(kind, f.name, v)}}</td>
        % end
      % end
      % if kind == 'queues':
        <td class="num"><a class="button small" href="/admin/queues/{{row['name']}}/members">{{_('agents.queue.members', n=member_counts.get(row['name'], 0))}}</a></td>
      % end
      % if registrations is not None:
        % state = registration_state(kind, row, registrations)
        <td><span class="flag reg {{'yes' if state in ('registered', 'port_idle', 'port_busy', 'port_ringing') else 'no'}}" data-reg="{{kind}}/{{row[key]}}" data-state="{{state}}" data-registers="{{'1' if kind == 'phones' or row.get('register') else '0'}}" data-analog="{{'1' if row.get('kind') == 'fxs' else '0'}}">{{_(registration_word(state))}}</span></td>
      % end
      % if provisioning is not None:
        % include('phone_provisioning_state.tpl', row=row)
      % end
      % if kind == 'agents':
        <td>{{', '.join(queue_names.get(q, q) for q in row.get('queues') or [])}}</td>
        <td>
          <span class="state {{'free' if row['logged_in'] else 'logged_out'}}">{{_('live.signed_in') if row['logged_in'] else _('live.signed_out')}}</span>
          <form method="post" action="/agents/{{row['number']}}/{{'logout' if row['logged_in'] else 'login'}}" class="inline">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="next" value="/admin/agents">
            <button class="small">{{_('admin.sign_out') if row['logged_in'] else _('admin.sign_in')}}</button>
          </form>
        </td>
      % end
        <td class="actions">
        % if can_edit:
          <a class="button small" href="/admin/{{kind}}/{{row[key]}}">{{_('admin.edit')}}</a>
          <form method="post" action="/admin/{{kind}}/{{row[key]}}/delete" class="inline" data-confirm="{{_('admin.confirm_delete', what=row[key])}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button class="small danger">{{_('admin.delete')}}</button>
          </form>
        % end
        </td>
      </tr>
    % end
    % if not rows:
      <tr class="empty"><td colspan="{{len(shown) + extra + 1}}">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
  % if columns is not None:
  <p class="hint">{{_('agents.' + kind[:-1] + '.more')}}</p>
  % end
</section>
% if kind == 'phones':
% used_ports = {r.get('dahdi_channel') for r in rows if r.get('kind') == 'fxs'}
<p class="hint" id="fxs-ports">{{_('fxs.ports.card', ports=', '.join(str(p) for p in card_ports), free=', '.join(str(p) for p in card_ports if p not in used_ports) or '-') if card_ports else _('fxs.ports.none')}}</p>
% end
% if outbound_route is not None:
<section class="card" id="outbound-route">
  <h2>{{_('fxs.route.title')}}</h2>
  <p class="hint">{{_('fxs.route.intro')}}</p>
  <div class="table-wrap">
  <table class="list">
    <thead><tr><th class="num">#</th><th>{{_('fxs.route.name')}}</th><th>{{_('fxs.route.kind')}}</th><th class="num">{{_('fxs.route.priority')}}</th><th>{{_('fxs.route.capacity')}}</th></tr></thead>
    <tbody>
    % for r in outbound_route:
      <tr data-route="{{r['name']}}">
        <td class="num">{{r['order'] or '-'}}</td>
        <td>
        % if can_edit:
          <a href="/admin/{{'trunks' if r['kind'] == 'sip' else 'card_routes'}}/{{r['name']}}">{{r['display_name']}}</a>
        % else:
          {{r['display_name']}}
        % end
        % if r['display_name'] != r['name']:
          <span class="muted small">{{r['name']}}</span>
        % end
        </td>
        <td>{{_('fxs.route.kind_pri', span=r['span']) if r['kind'] == 'pri' else _('fxs.route.kind_' + r['kind'])}}</td>
        <td class="num">{{r['priority'] if r['priority'] else _('fxs.route.never')}}</td>
        <td>{{_('fxs.route.not_on_card') if not r['on_card'] else _('fxs.route.calls', n=r['capacity']) if r['capacity'] else _('fxs.route.no_limit')}}</td>
      </tr>
    % end
    % if not outbound_route:
      <tr class="empty"><td colspan="5">{{_('fxs.route.none')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
% end
% if provisioning is not None:
% include('phones_provisioning.tpl')
% end
% if registrations is not None:
<script id="reg-i18n" type="application/json">{{!registration_messages(_)}}</script>
<script src="/static/registrations.js"></script>
% end
% if can_edit:
<section class="card">
  <h2>{{_('admin.add_' + kind)}}</h2>
  <form method="post" action="/admin/{{kind}}" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % include('config_fields.tpl', mine={})
    <div class="buttons"><button class="primary">{{_('admin.create')}}</button></div>
  </form>
</section>
% end
