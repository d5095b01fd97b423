// Dashboard: refresh the live tables and the health pills from the JSON API every 2 s.
// (Server-Sent Events replace the polling when the engine's event stream lands.)
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("i18n").textContent);
  function t(id) { return T[id] || id; }
  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }
  function fill(id, rows, cols, emptyId) {
    var body = document.querySelector("#" + id + " tbody");
    body.textContent = "";
    if (!rows.length) {
      var tr = document.createElement("tr"); tr.className = "empty";
      var td = cell(t(emptyId)); td.colSpan = cols; tr.appendChild(td); body.appendChild(tr);
      return;
    }
    rows.forEach(function (cells) {
      var tr = document.createElement("tr");
      cells.forEach(function (c) {
        if (c && c.state !== undefined) {
          var td = document.createElement("td"), span = document.createElement("span");
          span.className = "state " + c.state; span.textContent = t("agent_state." + c.state);
          td.appendChild(span); tr.appendChild(td);
        } else { tr.appendChild(cell(c)); }
      });
      body.appendChild(tr);
    });
  }
  function render(live) {
    fill("queues", live.queues.map(function (q) {
      return [q.name, q.waiting, q.longest_wait + " s", (q.members || []).join(", ")];
    }), 4, "live.no_queues");
    fill("agents", live.agents.map(function (a) {
      return [a.name, {state: a.state}, a.in_state_seconds + " s", (a.queues || []).join(", ")];
    }), 4, "live.no_agents");
    fill("calls", live.calls.map(function (c) {
      return [c.caller + " " + (c.caller_name || ""), c.did, c.queue, c.agent, t("call_state." + c.state), c.duration + " s"];
    }), 6, "live.no_calls");
  }
  function renderHealth(h) {
    Object.keys(h.components).forEach(function (name) {
      var pill = document.querySelector('[data-component="' + name + '"]');
      if (!pill) return;
      var up = h.components[name].up;
      pill.className = "pill " + (up ? "ok" : "bad");
      pill.textContent = t("component." + name) + ": " + t(up ? "state.up" : "state.down");
    });
  }
  function get(url, done) {
    var x = new XMLHttpRequest();
    x.open("GET", url);
    x.onload = function () { if (x.status === 200 || x.status === 503) done(JSON.parse(x.responseText)); };
    x.send();
  }
  function tick() {
    get("/api/v1/live", render);
    get("/api/health", renderHealth);
  }
  setInterval(tick, 2000);
})();
