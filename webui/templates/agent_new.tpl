% rebase('base.tpl', title=_('agents.new.title'))
% # One page for a new agent: account, phone, work number and queues (webui/areas/agent_setup.py).
% include('config_tabs.tpl')
<p class="crumbs"><a href="/admin/agents">{{_('kind.agents')}}</a> ›</p>
<div class="page-head"><h1>{{_('agents.new.title')}}</h1><span class="muted">{{_('agents.new.intro')}}</span></div>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
% if made:
<section class="card" id="agent-made">
  <h2>{{_('agents.new.made', name=made['display_name'], number=made['number'])}}</h2>
  % include('agent_secrets.tpl', rows=[made])
  <p><a class="button" href="/admin/new-agent">{{_('agents.new.another')}}</a> <a class="button" href="/admin/agents">{{_('agents.new.to_list')}}</a></p>
</section>
% else:
<section class="card">
  <form method="post" action="/admin/new-agent" class="grid" novalidate id="agent-new">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <h2 class="wide">{{_('agents.new.account')}}</h2>
    % for name, kind, required in (('display_name', 'text', True), ('username', 'text', True), ('password', 'password', True)):
    % include('agent_field.tpl', name=name, kind=kind, required=required, value=values.get(name, ''))
    % end
    <h2 class="wide">{{_('agents.new.phone')}}</h2>
    % include('agent_field.tpl', name='extension', kind='text', required=True, value=values.get('extension', ''))
    % include('agent_field.tpl', name='number', kind='text', required=False, value=values.get('number', ''))
    <p class="hint wide">{{_('agents.new.secret_later')}}</p>
    <fieldset class="wide {{'has-error' if 'queues' in errors else ''}}" id="agent-queues">
      <legend>{{_('agents.new.queues')}}</legend>
      % if queues:
      <table class="list">
        <thead><tr><th></th><th>{{_('field.queues.name')}}</th><th class="num">{{_('admin.penalty')}}</th></tr></thead>
        <tbody>
        % for q in queues:
          <tr>
            <td><input type="checkbox" name="queue" value="{{q['name']}}" id="q-{{q['name']}}" {{'checked' if q['name'] in chosen else ''}}></td>
            <td><label for="q-{{q['name']}}"><strong>{{q.get('display_name') or q['name']}}</strong> <span class="muted">{{q['name'] if q.get('display_name') else ''}}</span></label></td>
            <td class="num"><input type="number" name="penalty-{{q['name']}}" value="{{chosen.get(q['name'], 0)}}" min="0" max="100" aria-label="{{_('admin.penalty')}} {{q['name']}}"></td>
          </tr>
        % end
        </tbody>
      </table>
      <small class="hint">{{_('admin.penalty_help')}}</small>
      % else:
      <p class="muted">{{_('agents.new.no_queues')}} <a href="/admin/queues">{{_('kind.queues')}}</a></p>
      % end
      % if 'queues' in errors:
      <em class="field-error">{{field_error(errors['queues'])}}</em>
      % end
    </fieldset>
    % for name in errors:
    % if name not in ('display_name', 'username', 'password', 'extension', 'number', 'queues'):
    <p class="alert wide">{{field_error(errors[name])}}</p>
    % end
    % end
    <div class="buttons"><button class="primary">{{_('agents.new.create')}}</button> <a class="button" href="/admin/agents">{{_('admin.cancel')}}</a></div>
  </form>
</section>
% end
