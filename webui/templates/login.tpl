% rebase('base.tpl', title=_('login.title'))
% from urllib.parse import quote
<section class="card narrow login">
  <div class="login-brand"><span class="logo big" aria-hidden="true"></span><h1>{{_('app.name')}}</h1></div>
  <p class="muted center">{{_('login.intro')}}</p>
  % if failed:
  <p class="alert">{{_('login.failed')}}</p>
  % end
  % if locked:
  <p class="alert" id="login-locked" role="alert">{{_('login.locked', at=when(locked['until']), minutes=locked['minutes'])}}</p>
  % end
  <form method="post" action="/login">
    <input type="hidden" name="next" value="{{next}}">
    <input type="hidden" name="lang" value="{{lang}}">
    <label>{{_('login.username')}}<input name="username" value="{{username}}" autocomplete="username" autofocus required></label>
    <label>{{_('login.password')}}<input name="password" type="password" autocomplete="current-password" required></label>
    <button class="primary">{{_('login.submit')}}</button>
  </form>
  <p class="langs">
    <a href="/login?lang=zh_CN&amp;next={{quote(next)}}" class="{{'on' if lang == 'zh_CN' else ''}}" lang="zh-CN">中文</a>
    <span class="sep">·</span>
    <a href="/login?lang=en&amp;next={{quote(next)}}" class="{{'on' if lang == 'en' else ''}}" lang="en">English</a>
  </p>
</section>
