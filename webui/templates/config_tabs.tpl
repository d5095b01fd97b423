<nav class="tabs" aria-label="{{_('nav.config')}}">
% for k in nav_kinds:
  <a href="/admin/{{k}}" class="{{'on' if path == '/admin/' + k or path.startswith('/admin/' + k + '/') else ''}}">{{_('kind.' + k)}}</a>
% end
  <a href="/admin/menus" class="{{'on' if path.startswith('/admin/menus') else ''}}">{{_('kind.menus')}}</a>
  <a href="/admin/dispositions" class="{{'on' if path.startswith('/admin/dispositions') else ''}}">{{_('dispositions.title')}}</a>
  <a href="/admin/compliance" class="{{'on' if path.startswith('/admin/compliance') else ''}}">{{_('compliance.tab')}}</a>
  % if user['role'] == 'admin':
  <a href="/admin/users" class="{{'on' if path.startswith('/admin/users') else ''}}">{{_('kind.users')}}</a>
  <a href="/admin/scripts" class="{{'on' if path.startswith('/admin/scripts') else ''}}">{{_('scripts.title')}}</a>
  <a href="/admin/rates" class="{{'on' if path.startswith('/admin/rates') else ''}}">{{_('rates.title')}}</a>
  <a href="/admin/mail-templates" class="{{'on' if path.startswith('/admin/mail-templates') else ''}}">{{_('mail.templates.tab')}}</a>
  <a href="/admin/sip-security" class="{{'on' if path.startswith('/admin/sip-security') else ''}}">{{_('sip.tab')}}</a>
  <a href="/admin/ha" class="{{'on' if path.startswith('/admin/ha') else ''}}">{{_('ha.title')}}</a>
  <a href="/admin/backup" class="{{'on' if path.startswith('/admin/backup') else ''}}">{{_('backup.title')}}</a>
  <a href="/admin/webhooks" class="{{'on' if path.startswith('/admin/webhooks') else ''}}">{{_('webhooks.tab')}}</a>
  <a href="/admin/upgrade" class="{{'on' if path.startswith('/admin/upgrade') else ''}}">{{_('upgrade.title')}}</a>
  % end
</nav>
