% role = ha.get('state') or 'off'
% peer = ha.get('peer') or {}
% rep = ha.get('replication') or {}
  <dl class="facts">
    <dt>{{_('ha.this_box')}}</dt><dd id="ha-role" data-role="{{role}}">{{label('ha_role', role)}}</dd>
    <dt>{{_('ha.peer')}}</dt><dd id="ha-peer" data-role="{{peer.get('role') or ''}}">{{ha.get('peer_address', '')}} —
      {{label('ha_role', peer.get('role')) if peer.get('reachable') else _('ha.peer_silent')}}</dd>
    <dt>{{_('ha.lag')}}</dt><dd id="ha-lag">{{_('ha.seconds', n='%.2f' % rep['lag_seconds']) if rep.get('lag_seconds') is not None else '—'}}</dd>
    <dt>{{_('ha.floating')}}</dt><dd>{{ha.get('floating_address', '')}}</dd>
  </dl>
