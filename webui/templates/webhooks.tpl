% rebase('base.tpl', title=_('webhooks.tab'))
% include('config_tabs.tpl')
<div class="page-head"><h1>{{_('webhooks.tab')}}</h1></div>
<p class="muted">{{_('webhooks.intro')}}</p>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
% if status:
<p class="notice" role="status" id="webhooks-done">{{_('webhooks.done.' + status)}}</p>
% end
% if secret:
<section class="card" id="webhook-secret">
  <h2>{{_('webhooks.secret_title', url=secret['url'])}}</h2>
  <p class="pair"><input class="secret" id="secret-value" size="56" value="{{secret['secret']}}" readonly aria-label="{{_('webhooks.secret_title', url=secret['url'])}}">
    <button type="button" class="small" data-copy="secret-value" data-copied="{{_('agents.secret.copied')}}">{{_('agents.secret.copy')}}</button></p>
  <p class="muted">{{_('webhooks.secret_once')}}</p>
</section>
% end
% for s in subs:
<section class="card" id="webhook-{{s['id']}}" data-url="{{s['url']}}">
  <h2>{{s['url']}} <span class="pill {{'ok' if s['active'] else 'bad'}}">{{_('webhooks.active') if s['active'] else _('webhooks.inactive')}}</span>
    % if s['failing']:
    <span class="pill bad" data-failing="1" title="{{_('webhooks.failing_help')}}">{{_('webhooks.failing')}}</span>
    % end
  </h2>
  <p class="muted">{{_('webhooks.events_list', list=('、' if lang == 'zh_CN' else ', ').join(_('webhooks.event.' + e) for e in s['events']))}}</p>
  <p>{{_('webhooks.counts', pending=s['pending'], delivered=s['delivered'], failed=s['failed'])}}</p>
  <div class="actions">
    <form method="post" action="/admin/webhooks/{{s['id']}}/test" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button class="small" name="test">{{_('webhooks.send_test')}}</button>
    </form>
    <form method="post" action="/admin/webhooks/{{s['id']}}/active" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <input type="hidden" name="active" value="{{'0' if s['active'] else '1'}}">
      <button class="small">{{_('webhooks.deactivate') if s['active'] else _('webhooks.activate')}}</button>
    </form>
    <form method="post" action="/admin/webhooks/{{s['id']}}/rotate" class="inline" data-confirm="{{_('webhooks.confirm_rotate', url=s['url'])}}">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button class="small">{{_('webhooks.rotate')}}</button>
    </form>
    <form method="post" action="/admin/webhooks/{{s['id']}}/delete" class="inline" data-confirm="{{_('webhooks.confirm_delete', url=s['url'])}}">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button class="small danger">{{_('admin.delete')}}</button>
    </form>
  </div>
  % rows = deliveries.get(s['id']) or []
  % if not rows:
  <p class="empty">{{_('webhooks.no_deliveries')}}</p>
  % else:
  <div class="table-wrap">
  <table class="list deliveries">
    <thead><tr><th>{{_('webhooks.col.created')}}</th><th>{{_('webhooks.col.type')}}</th><th>{{_('webhooks.col.state')}}</th>
      <th>{{_('webhooks.col.attempts')}}</th><th>{{_('webhooks.col.error')}}</th><th>{{_('webhooks.col.next_try')}}</th></tr></thead>
    <tbody>
    % for d in rows:
      <tr data-state="{{d['state']}}" data-type="{{d['type']}}">
        <td>{{when(d['created_at'], True)}}</td>
        <td>{{_('webhooks.event.' + d['type'])}}</td>
        <td>{{_('webhooks.state.' + d['state'])}}</td>
        <td>{{d['attempts']}}</td>
        <td class="small">{{d['last_error'] or '—'}}</td>
        <td>{{when(d['next_try'], True)}}</td>
      </tr>
    % end
    </tbody>
  </table>
  </div>
  % end
</section>
% end
% if not subs:
<p class="empty">{{_('webhooks.none')}}</p>
% end
<section class="card" id="webhook-new">
  <h2>{{_('webhooks.new')}}</h2>
  <form method="post" action="/admin/webhooks" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field {{'has-error' if 'url' in errors else ''}}">
      <label for="url">{{_('webhooks.url')}}</label>
      <input id="url" name="url" value="{{values.get('url', '')}}" autocomplete="off" placeholder="https://crm.example.com/hooks/callcenter" aria-describedby="url-help">
      <small id="url-help" class="muted">{{_('webhooks.url_help')}}</small>
      % if 'url' in errors:
      <em class="field-error">{{field_error(errors['url'])}}</em>
      % end
    </div>
    <fieldset class="field wide event-types {{'has-error' if 'events' in errors else ''}}">
      <legend>{{_('webhooks.events')}}</legend>
      % for e in event_types:
      <label class="check"><input type="checkbox" name="events" value="{{e}}" id="ev-{{e}}" {{'checked' if e in values.get('events', []) else ''}}> {{_('webhooks.event.' + e)}}</label>
      % end
      % if 'events' in errors:
      <em class="field-error">{{field_error(errors['events'])}}</em>
      % end
    </fieldset>
    <div class="actions"><button>{{_('webhooks.create')}}</button></div>
  </form>
</section>
<script src="/static/copy.js"></script>
