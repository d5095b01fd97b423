% # The phones page's card on phones that configure themselves (provisioning: webui/areas/provisioning.py page()).
<section class="card" id="provisioning">
  <h2>{{_('prov.title')}}</h2>
  <p>{{_('prov.intro')}}</p>
  <dl class="facts">
    <dt>{{_('prov.url')}}</dt><dd><code id="prov-url">{{provisioning['url']}}</code></dd>
    <dt>{{_('prov.option66')}}</dt><dd><code id="prov-option66">{{provisioning['url']}}</code>
      <p class="hint">{{_('prov.option66_hint')}}</p></dd>
  </dl>
  <h3>{{_('prov.steps_title')}}</h3>
  <ol class="steps">
    <li>{{_('prov.step.phone')}}</li>
    <li>{{_('prov.step.dhcp')}}</li>
    <li>{{_('prov.step.credentials')}}</li>
    <li>{{_('prov.step.check')}}</li>
  </ol>
  <h3>{{_('prov.vendors_title')}}</h3>
  <ul id="prov-vendors">
    <li><strong>{{_('prov.vendor.yealink')}}</strong>: {{_('prov.note.yealink')}}</li>
    <li><strong>{{_('prov.vendor.grandstream')}}</strong>: {{_('prov.note.grandstream')}}</li>
    <li><strong>{{_('prov.vendor.fanvil')}}</strong>: {{_('prov.note.fanvil')}}</li>
  </ul>
  % if provisioning['https']:
  <p class="hint">{{_('prov.https_hint')}}</p>
  % else:
  <p class="hint">{{_('prov.http_hint')}}</p>
  % end
</section>
