% # Click-to-dial: the messages crm.js shows, then the script (no inline code: the CSP forbids it).
<div id="dial-config" hidden data-agent="{{my_agent or ''}}" data-csrf="{{csrf}}"
     data-calling="{{_('crm.dial_calling')}}" data-failed="{{_('crm.dial_failed')}}"></div>
<script src="/static/crm.js"></script>
