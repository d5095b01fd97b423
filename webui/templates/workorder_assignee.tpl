  <div class="field"><label for="wo-akind">{{_('wo.assign_to')}}</label>
    <select id="wo-akind" name="assignee_kind">
    % for k in ('', 'agent', 'queue', 'engineer'):
      <option value="{{k}}" {{'selected' if data.get('assignee_kind', '') == k else ''}}>{{_('wo.assignee_kind.' + k) if k else _('wo.nobody')}}</option>
    % end
    </select></div>
  <div class="field"><label for="wo-assignee">{{_('wo.assignee')}}</label>
    <input id="wo-assignee" name="assignee" list="wo-assignees" maxlength="64" value="{{data.get('assignee', '')}}">
    <datalist id="wo-assignees">
    % for number, name in agents:
      <option value="{{number}}">{{name}}</option>
    % end
    % for qname, name in queues:
      <option value="{{qname}}">{{name}}</option>
    % end
    </datalist>
    <small class="hint">{{_('wo.assignee_help')}}</small></div>
  <div class="field"><label for="wo-contact">{{_('wo.engineer_contact')}}</label>
    <input id="wo-contact" name="engineer_contact" maxlength="128" value="{{data.get('engineer_contact', '')}}"></div>
