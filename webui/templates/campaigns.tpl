% rebase('base.tpl', title=_('campaigns.title'))
<div class="page-head"><h1>{{_('campaigns.title')}}</h1><span class="muted">{{_('admin.count', n=len(rows))}}</span>
  <a class="button" href="/calllists" id="to-calllists">{{_('calllists.title')}}</a></div>
<p class="muted">{{_('campaigns.intro')}}</p>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem.get('params'))}} <span class="small">{{_('error.detail')}}: {{field_error(problem['detail'])}}</span></p>
% end
<section class="card">
  <div class="table-wrap">
  <table class="list" id="campaigns">
    <thead><tr><th>{{_('campaigns.name')}}</th><th>{{_('campaigns.mode')}}</th><th>{{_('campaigns.state')}}</th>
      <th class="num">{{_('campaigns.dialled')}}</th><th class="num">{{_('campaigns.answered')}}</th>
      <th class="num">{{_('campaigns.remaining')}}</th></tr></thead>
    <tbody>
    % for r in rows:
      % f = figures[r['id']]
      <tr data-id="{{r['id']}}"><td><a href="/campaigns/{{r['id']}}">{{r['display_name']}}</a></td>
        <td>{{_('campaigns.mode.' + r['mode'])}}</td>
        <td><span class="flag {{'yes' if r['state'] == 'running' else 'no'}}">{{_('campaigns.state.' + r['state'])}}</span>
        % if r['waiting']:
          <span class="muted waiting">{{_('campaigns.agentless.waiting', at=when(r['start_at']))}}</span>
        % end
        </td>
        <td class="num">{{f['dialled']}}</td><td class="num">{{f['answered']}}</td><td class="num">{{f['remaining']}}</td></tr>
    % end
    % if not rows:
      <tr class="empty"><td colspan="6">{{_('admin.none_yet')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
<section class="card">
  <h2>{{_('campaigns.add')}}</h2>
  <form method="post" action="/campaigns" class="grid" id="campaign-add">
  % include('campaign_form.tpl', c=None)
    <div class="buttons"><button class="primary">{{_('admin.create')}}</button></div>
  </form>
</section>
