% if problem:
<div class="alert" role="alert" id="problem"><p>{{error_message(problem['code'], problem['status'], problem.get('params'))}}</p>
  % if problem.get('fields'):
  <ul>
  % for name, err in problem['fields'].items():
    % head = name.split('.')[0]
    <li>{{label('wo_field', head)}}{{(' ' + name.split('.', 1)[1]) if '.' in name else ''}}: {{field_error(err)}}</li>
  % end
  </ul>
  % end
</div>
% end
