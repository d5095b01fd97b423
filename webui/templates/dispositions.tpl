% rebase('base.tpl', title=_('dispositions.title'))
% include('config_tabs.tpl')
% can_edit = user['role'] == 'admin'
<div class="page-head"><h1>{{_('dispositions.title')}}</h1><span class="muted">{{_('admin.count', n=len(rows))}}</span></div>
<p class="muted">{{_('dispositions.intro')}}</p>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'])}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
<section class="card">
  <div class="table-wrap">
  <table class="list" id="dispositions">
    <thead><tr><th class="num">#</th><th>{{_('dispositions.name')}}</th><th>{{_('dispositions.code')}}</th>
      <th class="num">{{_('dispositions.used')}}</th><th>{{_('dispositions.state')}}</th><th></th></tr></thead>
    <tbody>
    % for n, d in enumerate(rows, 1):
      <tr data-code="{{d['code']}}" class="{{'' if d['active'] else 'done'}}">
        <td class="num">{{n}}</td>
        % if can_edit:
        <td><form method="post" action="/admin/dispositions/{{d['code']}}" class="row-form">
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <input name="label" value="{{d['label']}}" maxlength="64" placeholder="{{d['name']}}"
                 aria-label="{{_('dispositions.name_of', code=d['name'])}}">
          <label class="check"><input type="checkbox" name="active" {{'checked' if d['active'] else ''}}> {{_('dispositions.active')}}</label>
          <button class="small">{{_('dispositions.save')}}</button>
        </form></td>
        % else:
        <td><strong>{{d['name']}}</strong></td>
        % end
        <td><code translate="no">{{d['code']}}</code></td>
        <td class="num">{{d['used']}}</td>
        <td><span class="flag {{'yes' if d['active'] else 'no'}}">{{_('dispositions.on') if d['active'] else _('dispositions.off')}}</span></td>
        <td class="actions">
        % if can_edit:
          <form method="post" action="/admin/dispositions/{{d['code']}}/move" class="inline">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <button class="small" name="step" value="up" {{'disabled' if n == 1 else ''}} aria-label="{{_('dispositions.up_of', name=d['name'])}}">↑</button>
            <button class="small" name="step" value="down" {{'disabled' if n == len(rows) else ''}} aria-label="{{_('dispositions.down_of', name=d['name'])}}">↓</button>
          </form>
          % if d['used']:
          <form method="post" action="/admin/dispositions/{{d['code']}}/delete" class="inline" data-confirm="{{_('dispositions.confirm_off', name=d['name'], n=d['used'])}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger" {{'' if d['active'] else 'disabled'}}>{{_('dispositions.switch_off')}}</button>
          </form>
          % else:
          <form method="post" action="/admin/dispositions/{{d['code']}}/delete" class="inline" data-confirm="{{_('dispositions.confirm_delete', name=d['name'])}}">
            <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('admin.delete')}}</button>
          </form>
          % end
        % end
        </td>
      </tr>
    % end
    % if not rows:
      <tr class="empty"><td colspan="6">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
% if can_edit:
<section class="card">
  <h2>{{_('dispositions.add')}}</h2>
  <form method="post" action="/admin/dispositions" class="grid" id="disposition-add">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <div class="field {{'has-error' if 'label' in errors else ''}}"><label for="d-label">{{_('dispositions.name')}} *</label>
      <input id="d-label" name="label" maxlength="64" required value="{{values.get('label', '')}}">
      % if 'label' in errors:
      <em class="field-error">{{field_error(errors['label'])}}</em>
      % end
    </div>
    <div class="field {{'has-error' if 'code' in errors else ''}}"><label for="d-code">{{_('dispositions.code')}} *</label>
      <input id="d-code" name="code" maxlength="32" required pattern="[a-z][a-z0-9\-]{0,31}" value="{{values.get('code', '')}}">
      % if 'code' in errors:
      <em class="field-error">{{field_error(errors['code'])}}</em>
      % else:
      <small class="hint">{{_('dispositions.code_hint')}}</small>
      % end
    </div>
    <div class="buttons"><button class="primary">{{_('admin.create')}}</button></div>
  </form>
</section>
% end
