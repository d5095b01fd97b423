% rebase('base.tpl', title=_('scripts.runs_title'))
<div class="page-head">
  <h1>{{_('scripts.runs_title')}}</h1><span class="muted" translate="no">{{linkedid}}</span>
  <a class="button" href="/calls/{{linkedid}}">{{_('scripts.to_call')}}</a>
</div>
% for r in runs:
<section class="card run">
  <h2>{{r['script']}} <span class="muted">{{r['agent']}} · {{when(r['started_at'])}}</span>
    <span class="pill">{{_('scripts.finished') if r['finished'] else _('scripts.unfinished')}}</span></h2>
  % if r['customer']:
  <p><a href="/customers/{{r['customer']['id']}}">{{r['customer']['name']}}</a></p>
  % end
  <ol class="history">
  % for p in r['path']:
    <li><span class="muted">{{when(p['at'])}} {{p['by']}}</span> {{p['text']}}
    % if p['field']:
      <br><strong>{{p['field_label'] or p['field']}}: {{'—' if p['answer'] is None else p['answer']}}</strong>
      <span class="muted">{{_('scripts.saved') if p['saved'] else _('scripts.not_saved')}}</span>
    % end
    </li>
  % end
  </ol>
</section>
% end
% if not runs:
<p class="muted" id="no-runs">{{_('scripts.no_runs')}}</p>
% end
