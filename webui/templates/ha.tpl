% rebase('base.tpl', title=_('ha.title'))
% include('config_tabs.tpl')
<div class="page-head"><h1>{{_('ha.title')}}</h1></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem.get('params'))}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
% if saved:
<p class="notice" id="ha-saved" role="status">{{_('ha.saved')}}</p>
% end
% if restart_needed:
<p class="alert" id="ha-restart" role="alert">{{_('ha.restart_needed')}}</p>
% end
<section class="card" id="ha-status">
  <h2>{{_('ha.now')}}</h2>
  % if not status.get('enabled'):
  <p class="muted" id="ha-off">{{_('ha.off')}}</p>
  % else:
  % include('ha_facts.tpl', ha=status)
  % end
  <p class="small muted">{{_('ha.calls_lost')}}</p>
</section>
% if refused:
<p class="alert" role="alert" id="ha-kept-refused">{{field_error(refused)}}</p>
% end
% if removed:
<p class="notice" id="ha-kept-removed" role="status">{{_('ha.kept.removed', name=removed)}}</p>
% end
<section class="card" id="ha-kept">
  <h2>{{_('ha.kept.title')}}</h2>
  <p class="small muted">{{_('ha.kept.help')}}</p>
  % if kept['peer'] and not kept['peer']['reachable']:
  <p class="alert" role="alert" id="ha-kept-peer-silent">{{_('ha.kept.peer_unreachable', address=kept['peer']['address'])}}</p>
  % end
  % if not kept['items']:
  <p class="muted" id="ha-kept-none">{{_('ha.kept.none')}}</p>
  % else:
  <table class="list" id="ha-kept-list">
    <thead><tr><th>{{_('ha.kept.box')}}</th><th>{{_('ha.kept.file')}}</th><th>{{_('ha.kept.size')}}</th><th>{{_('ha.kept.when')}}</th><th>{{_('ha.kept.why')}}</th><th></th></tr></thead>
    <tbody>
    % for f in kept['items']:
    % url = '/admin/ha/kept/%s/%s' % (f['box'], f['name'])
    <tr data-box="{{f['box']}}" data-name="{{f['name']}}">
      <td>{{_('ha.kept.here') if f['box'] == 'here' else _('ha.kept.peer', address=kept['peer']['address'])}}</td>
      <td><a href="{{url}}" download>{{f['name']}}</a></td>
      <td class="num" data-bytes="{{f['size']}}">{{'%.1f MiB' % (f['size'] / 1048576.0)}}</td>
      <td>{{when(f['kept_at'], True)}}</td>
      <td>{{_('ha.kept.cause.' + f['cause'])}}</td>
      <td>
        <form method="post" action="{{url}}/remove" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <label><input type="checkbox" name="confirm" value="on"> {{_('ha.kept.confirm_box')}}</label>
          <button class="danger">{{_('ha.kept.remove')}}</button>
        </form>
      </td>
    </tr>
    % end
    </tbody>
  </table>
  % end
</section>
<section class="card" id="ha-settings">
  <h2>{{_('ha.settings')}}</h2>
  <form method="post" action="/admin/ha" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field">
      <label><input type="checkbox" name="enabled" id="enabled" {{'checked' if values.get('enabled') else ''}}> {{_('ha.enabled')}}</label>
      <small class="muted">{{_('ha.enabled_help')}}</small>
    </div>
    % for name, kind in (('interface', 'text'), ('peer_address', 'text'), ('floating_address', 'text'), ('gateway', 'text'), ('router_id', 'number'), ('priority', 'number'), ('secret', 'password')):
    <div class="field {{'has-error' if name in errors else ''}}">
      <label for="{{name}}">{{_('ha.field.' + name)}}</label>
      <input id="{{name}}" name="{{name}}" type="{{kind}}" value="{{values.get(name, '')}}" autocomplete="off" aria-describedby="{{name}}-help"{{!' placeholder="' + _('ha.secret_kept') + '"' if name == 'secret' and settings['secret_set'] else ''}}>
      <small id="{{name}}-help" class="muted">{{_('ha.help.' + name)}}</small>
      % if name in errors:
      <em class="field-error">{{field_error(errors[name])}}</em>
      % end
    </div>
    % end
    <div class="actions"><button>{{_('admin.save')}}</button></div>
  </form>
</section>
