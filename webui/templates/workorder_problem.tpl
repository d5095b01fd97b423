% if problem:
<div class="alert" role="alert" id="problem"><p>{{error_message(problem['code'], problem['status'], problem.get('params'))}}</p>
  % if problem.get('fields'):
  <ul>
  % for name, err in problem['fields'].items():
    <li><span translate="no">{{name}}</span>: {{field_error(err)}}</li>
  % end
  </ul>
  % end
</div>
% end
