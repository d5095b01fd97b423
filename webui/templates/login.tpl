% rebase('base.tpl', title=_('login.title'))
<section class="card narrow login">
  <h1>{{_('app.name')}}</h1>
  <p class="muted">{{_('login.intro')}}</p>
  % if error:
  <p class="alert">{{error}}</p>
  % end
  <form method="post" action="/login">
    <input type="hidden" name="next" value="{{next}}">
    <input type="hidden" name="lang" value="{{lang}}">
    <label>{{_('login.username')}}<input name="username" value="{{username}}" autocomplete="username" autofocus required></label>
    <label>{{_('login.password')}}<input name="password" type="password" autocomplete="current-password" required></label>
    <button class="primary">{{_('login.submit')}}</button>
  </form>
  <p class="langs"><a href="/login?lang=zh_CN">中文</a> · <a href="/login?lang=en">English</a></p>
</section>
