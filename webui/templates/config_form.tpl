% # The form of one configuration object: fields from the service's field table (kind, fields,
% # values, errors, refs), posted to action.
  <form method="post" action="{{action}}" class="grid" novalidate>
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % include('config_fields.tpl', mine={})
    <div class="buttons"><button class="primary">{{submit}}</button></div>
  </form>
