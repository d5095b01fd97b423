% # One phone's provisioning state in the phones list (row: ConfigService's view of the phone).
<td class="small" data-prov="{{row['extension']}}">
% if not row.get('mac'):
  <span class="muted">{{_('prov.state.by_hand')}}</span>
% elif row.get('fetched_at'):
  <span class="flag yes">{{_('prov.state.fetched')}}</span> <span class="mono">{{when(row['fetched_at'])}}</span>
  <span class="muted">{{_('prov.state.from', address=row['fetched_from'])}}</span>
% else:
  <span class="flag no">{{_('prov.state.never')}}</span>
% end
</td>
