% for p in parts:
% if p['mark']:
<mark>{{p['text']}}</mark>\\
% else:
{{p['text']}}\\
% end
% end
