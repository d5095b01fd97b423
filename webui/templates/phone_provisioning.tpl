% # One phone's page: what the installer keys into the phone (p: webui/areas/provisioning.py phone_page()).
<section class="card" id="provisioning">
  <h2>{{_('prov.phone_title')}}</h2>
  <p>{{_('prov.phone_intro')}}</p>
  <dl class="facts">
    <dt>{{_('prov.url')}}</dt><dd><code id="prov-url">{{p['url']}}</code></dd>
    <dt>{{_('prov.username')}}</dt><dd><code id="prov-username">{{p['username']}}</code></dd>
    <dt>{{_('prov.password')}}</dt><dd><code id="prov-password">{{p['password']}}</code></dd>
    <dt>{{_('prov.file')}}</dt><dd><code id="prov-file">{{p['url'] + p['file']}}</code></dd>
  </dl>
  <p class="hint">{{_('prov.phone_hint')}}</p>
</section>
