% rebase('base.tpl', title=c['display_name'])
<p class="crumbs"><a href="/campaigns">{{_('campaigns.title')}}</a> › {{c['display_name']}}</p>
<div class="page-head"><h1>{{c['display_name']}}</h1>
  <span class="flag {{'yes' if c['state'] == 'running' else 'no'}}" id="campaign-state">{{_('campaigns.state.' + c['state'])}}</span>
  <span class="muted">{{_('campaigns.mode.' + c['mode'])}}</span></div>
% if c['waiting']:
<p class="notice" id="campaign-waiting">{{_('campaigns.agentless.waiting', at=when(c['start_at']))}}</p>
% end
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem.get('params'))}} <span class="small">{{_('error.detail')}}: {{field_error(problem['detail'])}}</span></p>
% end
<section class="card" id="figures" data-campaign="{{c['id']}}">
  <h2>{{_('campaigns.figures')}}</h2>
  <div class="tiles">
  % for key in ('dialled', 'answered', 'machine', 'no_answer', 'busy', 'failed', 'abandoned', 'abandon_rate', 'skipped', 'refused', 'remaining'):
    <div class="tile" data-figure="{{key}}"><span class="figure">{{figures[key]}}</span><span class="label">{{_('campaigns.' + key)}}</span></div>
  % end
  % dialer = figures.get('dialer')
  % if dialer:
  % for key in ('agents_ready', 'agents_busy', 'lines_ringing', 'dial_level'):
    <div class="tile" data-dialer="{{key}}"><span class="figure">{{dialer[key]}}</span><span class="label">{{_('campaigns.dialer.' + key)}}</span></div>
  % end
  % end
  </div>
  % if dialer:
  <p id="dialer-status" data-words="{{json_words}}"><strong>{{_('campaigns.dialer.status')}}:</strong> <span class="{{'flag yes' if dialer['status'] == 'dialling' else 'flag no'}}" id="dialer-state">{{_('campaigns.dialer.status.' + dialer['status'])}}</span></p>
  <p class="hint">{{_('campaigns.dialer.figures_help')}}</p>
  % end
  <p class="hint">{{_('campaigns.figures_help')}}</p>
</section>
<section class="card row" id="campaign-actions">
  <form method="post" action="/campaigns/{{c['id']}}/state" class="inline" id="campaign-run">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % if c['state'] != 'running':
    <button class="primary" name="state" value="running" id="campaign-start">{{_('campaigns.start')}}</button>
    % else:
    <button name="state" value="paused" id="campaign-pause">{{_('campaigns.pause')}}</button>
    % end
  </form>
  % if c['state'] != 'stopped':
  <form method="post" action="/campaigns/{{c['id']}}/state" class="inline" data-confirm="{{_('campaigns.confirm_stop')}}">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <button class="danger" name="state" value="stopped" id="campaign-stop">{{_('campaigns.stop')}}</button>
  </form>
  % end
  <a class="button" href="/campaigns/{{c['id']}}/export" id="campaign-export" download>{{_('campaigns.export')}}</a>
</section>
<section class="card">
  <h2>{{_('campaigns.edit')}}</h2>
  <form method="post" action="/campaigns/{{c['id']}}" class="grid" id="campaign-edit">
  % include('campaign_form.tpl')
    <div class="buttons"><button class="primary">{{_('campaigns.save')}}</button></div>
  </form>
</section>
<script src="/static/campaign_figures.js"></script>
