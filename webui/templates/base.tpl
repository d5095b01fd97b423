<!doctype html>
<html lang="{{'zh-CN' if lang == 'zh_CN' else 'en'}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · {{_('app.name')}}</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body>
% if user:
<header class="topbar">
  <a class="brand" href="/">{{_('app.name')}}</a>
  <nav>
    <a href="/" class="{{'on' if path == '/' else ''}}">{{_('nav.dashboard')}}</a>
    % if user['role'] in ('admin', 'supervisor'):
    % for k in ('queues', 'agents', 'phones', 'trunks', 'dids'):
    <a href="/admin/{{k}}" class="{{'on' if path.startswith('/admin/' + k) else ''}}">{{_('kind.' + k)}}</a>
    % end
    % end
    % if user['role'] == 'admin':
    <a href="/admin/audit" class="{{'on' if path == '/admin/audit' else ''}}">{{_('nav.audit')}}</a>
    % end
  </nav>
  <div class="who">
    <a href="/account">{{user['username']}} · {{_('role.' + user['role'])}}</a>
    <form method="post" action="/logout" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf}}">
      <button class="link">{{_('nav.logout')}}</button>
    </form>
  </div>
</header>
% end
<main>
{{!base}}
</main>
</body>
</html>
