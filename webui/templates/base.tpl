<!doctype html>
<html lang="{{'zh-CN' if lang == 'zh_CN' else 'en'}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · {{_('app.name')}}</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<a class="skip-link" href="#main">{{_('nav.skip_to_main')}}</a>
% if user:
<header class="topbar">
  <a class="brand" href="/"><span class="logo" aria-hidden="true"></span>{{_('app.name')}}</a>
  % if not path.startswith('/setup'):  # the first-run wizard: nowhere else to go yet
  <button type="button" class="menu-button" id="menu-button" aria-controls="main-nav" aria-expanded="false">
    <span class="bars" aria-hidden="true"></span>{{_('nav.menu')}}</button>
  <nav id="main-nav" aria-label="{{_('nav.main')}}">
    <a href="/" class="{{'on' if path == '/' else ''}}">{{_('nav.dashboard')}}</a>
    <a href="/workspace" class="{{'on' if path == '/workspace' else ''}}">{{_('nav.workspace')}}</a>
    <a href="/calls" class="{{'on' if path.startswith('/calls') else ''}}">{{_('nav.calls')}}</a>
    <a href="/customers" class="{{'on' if path.startswith('/customers') else ''}}">{{_('nav.customers')}}</a>
    <a href="/orders" class="{{'on' if path.startswith('/orders') or path.startswith('/products') else ''}}">{{_('orders.nav')}}</a>
    <a href="/recordings" class="{{'on' if path.startswith('/recordings') else ''}}">{{_('nav.recordings')}}</a>
    <a href="/voicemail" class="{{'on' if path.startswith('/voicemail') else ''}}">{{_('nav.voicemail')}}</a>
    <a href="/workorders" class="{{'on' if path.startswith('/workorders') else ''}}">{{_('nav.workorders')}}</a>
    <a href="/kb" class="{{'on' if path.startswith('/kb') else ''}}">{{_('kb.nav')}}</a>
    <a href="/faxes" class="{{'on' if path.startswith('/faxes') else ''}}">{{_('nav.faxes')}}</a>
    <a href="/reports" class="{{'on' if path.startswith('/reports') else ''}}">{{_('nav.reports')}}</a>
    % if user['role'] in ('admin', 'supervisor'):
    <a href="/wallboard" class="{{'on' if path == '/wallboard' else ''}}">{{_('nav.wallboard')}}</a>
    <a href="/billing" class="{{'on' if path.startswith('/billing') else ''}}">{{_('nav.billing')}}</a>
    <a href="/campaigns" class="{{'on' if path.startswith(('/campaigns', '/calllists')) else ''}}">{{_('campaigns.nav')}}</a>
    <a href="/admin/{{nav_kinds[0]}}" class="{{'on' if path.startswith('/admin/') and path != '/admin/audit' else ''}}">{{_('nav.config')}}</a>
    % end
    % if user['role'] == 'admin':
    <a href="/admin/audit" class="{{'on' if path == '/admin/audit' else ''}}">{{_('nav.audit')}}</a>
    % end
  </nav>
  % end
  <div class="who">
    <a href="/account" class="{{'on' if path == '/account' else ''}}">{{user['username']}} <span class="role">{{_('role.' + user['role'])}}</span></a>
    <form method="post" action="/logout" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button class="link">{{_('nav.logout')}}</button>
    </form>
  </div>
</header>
% end
<main id="main" tabindex="-1">
{{!base}}
</main>
<script src="/static/app.js"></script>
</body>
</html>
