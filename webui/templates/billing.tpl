% rebase('base.tpl', title=_('billing.title'))
<div class="page-head"><h1>{{_('billing.title')}}</h1>
  <form method="get" action="/billing" class="inline" id="bill-month">
    <label for="month">{{_('billing.month')}}</label> <input type="month" id="month" name="month" value="{{month}}" required>
    <button class="small">{{_('billing.show')}}</button>
  </form>
  % if bill:
  <a class="button" href="/billing/export?month={{month}}">{{_('billing.export')}}</a>
  % end
</div>
<p class="muted">{{_('billing.intro')}}</p>
% if problem:
<p class="alert" role="alert">{{error_message(problem['code'], problem['status'], problem.get('params'))}} <span class="small">{{_('error.detail')}}: {{problem['detail']}}</span></p>
% end
% if result:
<p class="notice" role="status" id="rerate-result">{{_('billing.rerated', month=result['month'], calls=result['calls'], changed=result['changed'], before=yuan(result['before_fen']), after=yuan(result['after_fen']))}}</p>
% end
% if bill:
<div class="tiles" id="bill-total" aria-label="{{_('billing.total')}}">
  <div class="tile"><span class="figure">{{yuan(bill['total']['calls_fen'])}}</span><span class="label">{{_('billing.col.calls_fen')}}</span></div>
  <div class="tile"><span class="figure">{{yuan(bill['total']['rent_fen'])}}</span><span class="label">{{_('billing.col.rent_fen')}}</span></div>
  <div class="tile"><span class="figure">{{yuan(bill['total']['total_fen'])}}</span><span class="label">{{_('billing.total')}}</span></div>
  <div class="tile {{'hot' if bill['total']['unrated'] else ''}}"><span class="figure">{{bill['total']['unrated']}}</span><span class="label">{{_('billing.col.unrated')}}</span></div>
</div>
% if bill['total']['unrated']:
<p class="muted small" id="unrated-hint">{{_('billing.unrated_hint')}}</p>
% end
% for kind in kinds:
<section class="card">
  <h2>{{_('billing.' + kind + 's')}}</h2>
  % if kind == 'team':
  <p class="muted small">{{_('billing.team_hint')}}</p>
  % end
  <div class="table-wrap">
  <table class="list" id="bill-{{kind}}s">
    <thead><tr><th>{{_('billing.col.name')}}</th><th class="num">{{_('billing.col.calls')}}</th><th class="num">{{_('billing.col.answered')}}</th>
      <th class="num">{{_('billing.col.talk_seconds')}}</th><th class="num">{{_('billing.col.calls_fen')}}</th>
      <th class="num">{{_('billing.col.rent_fen')}}</th><th class="num">{{_('billing.col.total_fen')}}</th><th class="num">{{_('billing.col.unrated')}}</th></tr></thead>
    <tbody>
    % for r in bill[kind + 's']:
      <tr data-name="{{r['name']}}"><td>{{r['label'] or r['name'] or _('billing.none')}}
        % if r['label'] and r['label'] != r['name']:
        <span class="muted small">{{r['name']}}</span>
        % end
        </td><td class="num">{{r['calls']}}</td><td class="num">{{r['answered']}}</td>
        <td class="num">{{secs(r['talk_seconds'])}}</td><td class="num">{{yuan(r['calls_fen'])}}</td><td class="num">{{yuan(r['rent_fen'])}}</td>
        <td class="num"><strong>{{yuan(r['total_fen'])}}</strong></td><td class="num">{{r['unrated']}}</td></tr>
    % end
    % if not bill[kind + 's']:
      <tr class="empty"><td colspan="8">{{_('billing.no_calls')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
% end
% if user['role'] == 'admin':
<section class="card">
  <h2>{{_('billing.rerate')}}</h2>
  <p class="muted">{{_('billing.rerate_intro')}}</p>
  <form method="post" action="/billing/rerate" id="rerate" data-confirm="{{_('billing.confirm_rerate', month=month)}}">
    <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="month" value="{{month}}">
    <button class="danger">{{_('billing.rerate_month', month=month)}}</button>
  </form>
  <p class="small"><a href="/admin/rates">{{_('rates.title')}}</a></p>
</section>
% end
% end
