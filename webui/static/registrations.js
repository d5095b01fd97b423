// The phones' and trunks' lists: each registration cell ([data-reg="<kind>/<key>"]) follows
// the "registration" events of /api/v1/events, without reloading the page; after each
// (re)connection of the stream the whole state is read again from /api/v1/registrations.
// The rule is webui/areas/registrations.py state_of.
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("reg-i18n").textContent);

  var UP = ["registered", "port_idle", "port_busy", "port_ringing"];
  function show(cell, state) {
    cell.className = "flag reg " + (UP.indexOf(state) >= 0 ? "yes" : "no");
    cell.setAttribute("data-state", state);
    cell.textContent = T[state] || state;
  }
  function cells(kind, key) {
    return document.querySelectorAll('[data-reg="' + kind + "/" + (window.CSS ? CSS.escape(key) : key) + '"]');
  }
  function stateOf(cell, now) {
    var kind = cell.getAttribute("data-reg").split("/")[0], key = cell.getAttribute("data-reg").slice(kind.length + 1);
    if (kind === "trunks" && cell.getAttribute("data-registers") !== "1") return "not_registering";
    var held = (now[kind] || {})[key], analog = cell.getAttribute("data-analog") === "1";
    if (analog && held === "port_missing") return held;  // an analog phone: its FXS port's state
    if (!now.known) return "unknown";
    return held || (analog ? "port_missing" : "unregistered");
  }
  function refresh() {
    var x = new XMLHttpRequest();
    x.open("GET", "/api/v1/registrations");
    x.setRequestHeader("Accept", "application/json");
    x.onload = function () {
      if (x.status !== 200) return;
      var now = JSON.parse(x.responseText);
      document.querySelectorAll("[data-reg]").forEach(function (cell) { show(cell, stateOf(cell, now)); });
    };
    x.send();
  }
  if (!window.EventSource) return;
  var events = new EventSource("/api/v1/events");
  events.addEventListener("open", refresh);
  events.addEventListener("registration", function (e) {
    var change = JSON.parse(e.data);
    if (change.kind === "all") { refresh(); return; }
    cells(change.kind, change.key).forEach(function (cell) {
      if (change.kind === "trunks" && cell.getAttribute("data-registers") !== "1") return;
      show(cell, change.state);
    });
  });
})();
