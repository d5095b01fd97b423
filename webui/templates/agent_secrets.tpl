% # What was made for each new agent, with the phone's SIP password shown this once and a copy button.
  % if rows and rows[0].get('apply_failed'):
  <p class="alert" role="alert">{{_('agents.new.apply_failed')}}</p>
  % end
  <p class="notice">{{_('agents.secret.once')}}</p>
  <table class="list agent-secrets">
    <thead><tr><th>{{_('agents.field.display_name')}}</th><th>{{_('agents.field.username')}}</th><th>{{_('agents.field.extension')}}</th><th>{{_('agents.secret.sip_password')}}</th>{{!'<th>' + _('wizard.agents.web_password') + '</th>' if 'password' in rows[0] else ''}}<th>{{_('agents.new.queues')}}</th></tr></thead>
    <tbody>
    % for i, r in enumerate(rows):
      <tr>
        <td>{{r['display_name']}}</td><td><strong>{{r['username']}}</strong></td><td>{{r['extension']}}</td>
        <td><input readonly class="secret" id="sip-secret-{{i}}" value="{{r['sip_secret']}}" size="18" aria-label="{{_('agents.secret.sip_password')}} {{r['extension']}}">
          <button type="button" class="small" data-copy="sip-secret-{{i}}" data-copied="{{_('agents.secret.copied')}}">{{_('agents.secret.copy')}}</button></td>
        % if 'password' in r:
        <td><input readonly class="secret" id="web-password-{{i}}" value="{{r['password']}}" size="14" aria-label="{{_('wizard.agents.web_password')}} {{r['extension']}}">
          <button type="button" class="small" data-copy="web-password-{{i}}" data-copied="{{_('agents.secret.copied')}}">{{_('agents.secret.copy')}}</button></td>
        % end
        <td>{{', '.join(r['queues']) or '—'}}</td>
      </tr>
    % end
    </tbody>
  </table>
<script src="/static/copy.js"></script>
