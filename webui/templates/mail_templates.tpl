% rebase('base.tpl', title=_('mail.templates.title'))
% include('config_tabs.tpl')
<div class="page-head">
  <h1>{{_('mail.templates.title')}}</h1>
</div>
% if problem:
<p class="alert" role="alert" id="problem">{{error_message(problem['code'], problem['status'], problem.get('params'))}}</p>
% end
<section class="card">
  <table class="list" id="mail-templates">
    <thead><tr><th>{{_('mail.templates.name')}}</th><th>{{_('mail.templates.subject')}}</th><th>{{_('mail.templates.updated')}}</th><th></th></tr></thead>
    <tbody>
    % for t in templates:
      <tr><td><a href="/admin/mail-templates?edit={{t['id']}}">{{t['name']}}</a></td><td>{{t['subject']}}</td>
        <td class="nowrap">{{when(t['updated_at'])}} · {{t['updated_by']}}</td>
        <td class="actions"><form method="post" action="/admin/mail-templates/{{t['id']}}/delete" class="inline" data-confirm="{{_('admin.confirm_delete', what=t['name'])}}">
          <input type="hidden" name="csrf_token" value="{{csrf}}"><button class="small danger">{{_('admin.delete')}}</button></form></td></tr>
    % end
    % if not templates:
      <tr class="empty"><td colspan="4">{{_('mail.templates.none')}}</td></tr>
    % end
    </tbody>
  </table>
</section>
<section class="card">
  <h2>{{_('mail.templates.edit', name=edit['name']) if edit else _('mail.templates.new')}}</h2>
  <form method="post" action="/admin/mail-templates{{('/' + str(edit['id'])) if edit else ''}}" class="grid" id="template-form" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % for name, maxlength in (('name', 64), ('subject', 200)):
    <div class="field {{'has-error' if name in errors else ''}}"><label for="mt-{{name}}">{{_('mail.templates.' + name)}} *</label>
      <input id="mt-{{name}}" name="{{name}}" maxlength="{{maxlength}}" value="{{values.get(name, '')}}">
      % if name in errors:
      <em class="field-error">{{field_error(errors[name])}}</em>
      % end
    </div>
    % end
    <div class="field wide {{'has-error' if 'body' in errors else ''}}"><label for="mt-body">{{_('mail.templates.body')}} *</label>
      <textarea id="mt-body" name="body" rows="10" maxlength="10000">{{values.get('body', '')}}</textarea>
      % if 'body' in errors:
      <em class="field-error">{{field_error(errors['body'])}}</em>
      % end
      <small class="hint" id="mt-placeholders">{{_('mail.templates.placeholders')}}
      % for k, text in known:
        <code translate="no">{{'{' + k + '}'}}</code> {{text}}
      % end
      </small>
    </div>
    <div class="buttons"><button class="primary">{{_('mail.templates.save')}}</button>
    % if edit:
      <a class="button" href="/admin/mail-templates">{{_('mail.templates.new')}}</a>
    % end
    </div>
  </form>
</section>
