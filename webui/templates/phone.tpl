% # A phone number, with a click-to-dial button when the user has an agent to dial from.
<span class="phone"><span class="mono">{{number}}</span>
% if my_agent and number:
<button type="button" class="small dial" data-dial="{{number}}" title="{{_('crm.dial_title', agent=my_agent)}}">{{_('crm.dial')}}</button>
% end
</span>
