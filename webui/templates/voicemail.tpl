% rebase('base.tpl', title=_('nav.voicemail'))
<div class="page-head">
  <h1>{{_('nav.voicemail')}}</h1><span class="muted">{{_('vm.count', n=len(items))}}</span>
</div>
<nav class="tabs">
% for s in states:
  <a href="/voicemail?state={{s}}{{'&queue=' + queue if queue else ''}}" class="{{'on' if s == state else ''}}">{{_('vm.state.' + s)}}</a>
% end
</nav>
<section class="card">
  <div class="table-wrap">
  <table class="list" id="messages">
    <thead><tr><th>{{_('rec.when')}}</th><th>{{_('rec.caller')}}</th><th>{{_('vm.customer')}}</th><th>{{_('vm.for')}}</th>
      <th>{{_('vm.reason')}}</th><th class="num">{{_('rec.duration')}}</th><th>{{_('rec.listen')}}</th><th>{{_('vm.handled')}}</th></tr></thead>
    <tbody>
    % for msg in items:
      <tr data-id="{{msg['id']}}" class="{{'done' if msg['handled_at'] else ''}}">
        <td class="nowrap">{{when(msg['created_at'])}}</td>
        <td>
        % include('phone.tpl', number=msg['caller'])
        <span class="muted small">{{msg['caller_name'] if msg['caller_name'] != msg['caller'] else ''}}</span></td>
        <td>
        % c = msg['customer']
        % if c:
          <a href="/customers/{{c['id']}}"><strong>{{c['name']}}</strong></a>
          % if c['category']:
          <span class="tag">{{c['category']}}</span>
          % end
          <span class="muted small">{{c['account_manager'] or ''}} {{c['account_manager_name'] or ''}}</span>
        % else:
          <span class="muted">{{_('ws.not_a_customer')}}</span>
        % end
        </td>
        <td>{{msg['queue']}}{{' · ' + msg['agent'] if msg['agent'] else ''}}</td>
        <td>{{_('vm.reason.' + msg['reason']) if msg['reason'] in ('after-hours', 'queue-timeout', 'queue-joinempty', 'queue-leaveempty') else msg['reason']}}</td>
        <td class="num">{{secs(msg['duration_seconds'])}}</td>
        <td class="player">
        % if msg['playable']:
          <button type="button" class="small play" data-src="/api/v1/voice-messages/{{msg['id']}}/audio">{{_('rec.play')}}</button>
        % else:
          <span class="flag rec-{{msg['recording']}}">{{_('rec.state.' + msg['recording'])}}</span>
        % end
        </td>
        <td class="handled">
        % if msg['handled_at']:
          <span class="flag yes">{{_('vm.handled_by', user=msg['handled_by'], at=when(msg['handled_at']))}}</span>
          % if msg['note']:
          <div class="small muted">{{msg['note']}}</div>
          % end
        % else:
          <a class="button small" href="/workorders/new?voice_message={{msg['id']}}&source=voicemail">{{_('wo.new')}}</a>
          <form method="post" action="/voicemail/{{msg['id']}}/handled" class="inline handle">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <input type="hidden" name="next" value="/voicemail?state={{state}}">
            <input name="note" maxlength="1000" placeholder="{{_('vm.note')}}" aria-label="{{_('vm.note')}}">
            <button class="small primary">{{_('vm.mark_handled')}}</button>
          </form>
        % end
        </td>
      </tr>
    % end
    % if not items:
      <tr class="empty"><td colspan="8">{{_('vm.none')}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
</section>
<p class="status" id="dial-status" role="status" aria-live="polite" hidden></p>
% include('dial_script.tpl')
<script src="/static/player.js"></script>
