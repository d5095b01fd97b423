% if problem:
<div class="alert" role="alert" id="problem"><p>{{error_message(problem['code'], problem['status'], problem.get('params'))}}</p>
  % if problem.get('fields'):
  <ul>
  % for name, err in problem['fields'].items():
    <li>{{_('kb.field.' + name) if ('kb.field.' + name) in kb_fields else name}}: {{field_error(err)}}</li>
  % end
  </ul>
  % end
</div>
% end
