% rebase('base.tpl', title=_('nav.recordings'))
<div class="page-head">
  <h1>{{_('nav.recordings')}}</h1><span class="muted">{{_('rec.count', n=total)}}</span>
</div>
% if storage:
<section class="tiles storage {{storage_level}}" id="storage">
  <div class="tile {{'hot' if storage_level != 'ok' else ''}} level-{{storage_level}}">
    % days, basis = storage['days_left'], storage.get('days_basis', 'rate')
    % if days is None:
    <span class="figure" id="days-left">—</span>
    <span class="label">{{_('rec.days_too_soon') if basis == 'too_soon' else _('rec.days_left')}}</span>
    % elif days >= plenty_days:
    <span class="figure" id="days-left">{{_('rec.days_plenty')}}</span>
    <span class="label">{{_('rec.days_left')}}</span>
    % else:
    <span class="figure" id="days-left">{{_('rec.days', n=int(days))}}</span>
    <span class="label">{{_('rec.days_left')}}</span>
    % end
  </div>
  <div class="tile"><span class="figure">{{'%.1f' % (storage['free_bytes'] / 1e9)}} <small>GB</small></span>
    <span class="label">{{_('rec.free_space')}}</span></div>
  <div class="tile"><span class="figure">{{'%.1f' % (storage['bytes_per_day'] / 1e6)}} <small>MB</small></span>
    <span class="label">{{_('rec.per_day')}}</span></div>
  <div class="tile"><span class="figure">{{'%.1f' % (storage['reserve_bytes'] / 1e9)}} <small>GB</small></span>
    <span class="label">{{_('rec.reserve')}}</span></div>
</section>
% if storage_level != 'ok':
<p class="alert" role="alert">{{_('rec.storage_alarm') if storage_level == 'bad' else _('rec.storage_low')}}</p>
% end
% end
<section class="card">
  <form method="get" action="/recordings" class="row search" role="search">
    <div class="field"><label for="r-from">{{_('rec.from')}}</label>
      <input id="r-from" name="from" type="date" value="{{args['from']}}"></div>
    <div class="field"><label for="r-to">{{_('rec.to')}}</label>
      <input id="r-to" name="to" type="date" value="{{args['to']}}"></div>
    <div class="field"><label for="r-caller">{{_('rec.caller')}}</label>
      <input id="r-caller" name="caller" value="{{args['caller']}}" maxlength="32" inputmode="tel"></div>
    <div class="field"><label for="r-agent">{{_('live.agent')}}</label>
      <select id="r-agent" name="agent"><option value="">{{_('crm.any')}}</option>
      % for a in agents:
        <option value="{{a['number']}}" {{'selected' if a['number'] == args['agent'] else ''}}>{{a['number']}} {{a['name']}}</option>
      % end
      </select></div>
    <div class="field"><label for="r-queue">{{_('rec.queue')}}</label>
      <select id="r-queue" name="queue"><option value="">{{_('crm.any')}}</option>
      % for name in queues:
        <option value="{{name}}" {{'selected' if name == args['queue'] else ''}}>{{name}}</option>
      % end
      </select></div>
    <div class="field"><label for="r-state">{{_('rec.state')}}</label>
      <select id="r-state" name="state"><option value="">{{_('crm.any')}}</option>
      % for s in states:
        <option value="{{s}}" {{'selected' if s == args['state'] else ''}}>{{_('rec.state.' + s)}}</option>
      % end
      </select></div>
    <button class="primary">{{_('crm.search_button')}}</button>
  </form>
</section>
<section class="card">
  <div class="table-wrap">
  <table class="list" id="recordings">
    <thead><tr><th>{{_('rec.when')}}</th><th>{{_('rec.caller')}}</th><th>{{_('live.agent')}}</th><th>{{_('rec.queue')}}</th>
      <th class="num">{{_('rec.duration')}}</th><th class="num">{{_('rec.size')}}</th><th>{{_('rec.state')}}</th><th>{{_('rec.listen')}}</th></tr></thead>
    <tbody>
    % for r in items:
      % call = r['call'] or {}
      <tr data-linkedid="{{r['linkedid']}}">
        <td class="nowrap">{{when(r['created_at'])}}</td>
        <td class="mono">{{call.get('caller', '')}}</td>
        <td>{{call.get('agent', '')}}</td>
        <td>{{call.get('queue', '')}}</td>
        <td class="num">{{secs(r['duration_seconds'])}}</td>
        <td class="num">{{'%.0f KB' % (r['bytes'] / 1000) if r['bytes'] else '—'}}</td>
        <td><span class="flag rec-{{r['state']}}">{{_('rec.state.' + r['state'])}}</span>{{!' <span class="flag">' + _('rec.partial') + '</span>' if r['partial'] else ''}}{{!' <span class="flag yes">' + _('rec.archived') + '</span>' if r['archived_at'] else ''}}</td>
        <td class="player">
        % if r['state'] == 'complete' or (r['state'] == 'expired' and r['archived_at']):
          <button type="button" class="small play" data-src="/api/v1/recordings/{{r['linkedid']}}/audio">{{_('rec.play')}}</button>
          <a class="button small" href="/api/v1/recordings/{{r['linkedid']}}/audio?download=1" download>{{_('rec.download')}}</a>
        % elif r['error_code']:
          <span class="small muted">{{error_message(r['error_code'], 500)}}</span>
        % end
        </td>
      </tr>
    % end
    % if not items:
      <tr class="empty"><td colspan="8">{{_('rec.none_found') if any(args.values()) else _('rec.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
  % if pages > 1:
  <nav class="pager" aria-label="{{_('crm.pages')}}">
    % if page > 1:
    <a href="{{page_url(page - 1)}}" rel="prev">‹ {{_('crm.previous')}}</a>
    % end
    <span class="muted">{{_('crm.page_of', page=page, pages=pages)}}</span>
    % if page < pages:
    <a href="{{page_url(page + 1)}}" rel="next">{{_('crm.next')}} ›</a>
    % end
  </nav>
  % end
</section>
<script src="/static/player.js"></script>
