// The live view: re-draw the figures, tables and health from the JSON API every 2 s.
// (Server-Sent Events replace the polling when the engine's event stream lands.)
// The rules match webui/app.py: live_summary, call_times and fmt_seconds.
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var NOT_ANSWERED = ["new", "queued", "ringing", "no_agent"];  // nobody has answered the caller
  var failingSince = null;

  function t(id, kw) {
    var text = T[id] || id;
    Object.keys(kw || {}).forEach(function (k) { text = text.split("{" + k + "}").join(kw[k]); });
    return text;
  }
  function known(prefix, value) {
    // a call state this release added has its message under live. (call_state.* are older)
    if (prefix === "call_state." && !T[prefix + value] && T["live.call_state_" + value]) {
      return T["live.call_state_" + value];
    }
    return T[prefix + value] ? T[prefix + value] : value;
  }
  function num(v) { return typeof v === "number" && isFinite(v); }
  function secs(v) {
    if (!num(v)) return "\u2014";
    var s = Math.max(0, Math.floor(v)), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    var mm = h ? (m < 10 ? "0" + m : "" + m) : "" + m;
    return (h ? h + ":" : "") + mm + ":" + (s < 10 ? "0" + s : s);
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function td(content, cls) {
    var cell = el("td", cls);
    (Array.isArray(content) ? content : [content]).forEach(function (c) {
      if (c === null || c === undefined) return;
      if (typeof c === "object") cell.appendChild(c); else cell.appendChild(document.createTextNode(String(c)));
    });
    return cell;
  }
  function fill(id, rows, cols, emptyId) {
    var body = document.querySelector("#" + id + " tbody");
    if (!body) return;
    body.textContent = "";
    if (!rows.length) {
      var tr = el("tr", "empty"), cell = td(t(emptyId));
      cell.colSpan = cols; tr.appendChild(cell); body.appendChild(tr);
      return;
    }
    rows.forEach(function (cells) {
      var tr = el("tr");
      cells.forEach(function (c) { tr.appendChild(c); });
      body.appendChild(tr);
    });
  }
  function tile(id, text, small, hot) {
    var box = document.getElementById(id);
    if (!box) return;
    var figure = box.querySelector(".figure");
    figure.textContent = text;
    if (small !== undefined) figure.appendChild(el("small", null, small));
    box.classList.toggle("hot", !!hot);
  }

  function render(live) {
    var queues = live.queues || [], agents = live.agents || [], calls = live.calls || [];
    var waiting = 0, longest = 0, available = 0, signedIn = 0, active = 0;
    queues.forEach(function (q) { waiting += q.waiting || 0; longest = Math.max(longest, q.longest_wait || 0); });
    agents.forEach(function (a) {
      if (a.state === "free") available += 1;
      if (a.state && a.state !== "logged_out") signedIn += 1;
    });
    calls.forEach(function (c) { if (c.state !== "ended") active += 1; });
    tile("tile-waiting", waiting, undefined, waiting > 0);
    tile("tile-longest", secs(longest), undefined, longest >= 60);
    tile("tile-available", available, "/" + signedIn);
    tile("tile-calls", active);

    fill("queues", queues.map(function (q) {
      var members = q.members, names = Array.isArray(members) ? members : [];
      var count = Array.isArray(members) ? members.length : (members === undefined ? "\u2014" : members);
      return [td([el("strong", null, q.name), " ", el("span", "muted", q.display_name || "")]),
              td(q.waiting || 0, "num" + (q.waiting ? " hot" : "")),
              td(secs(q.longest_wait), "num"),
              td((q.available === undefined ? "\u2014" : q.available) + " / " + count, "num"),
              td(names.join(", "), "muted")];
    }), 5, "live.no_queues");

    fill("agents", agents.map(function (a) {
      var state = a.state || "unknown";
      return [td([el("strong", null, a.name), " " + (a.display_name || "")]),
              td(el("span", "state " + state, known("agent_state.", state))),
              td(secs(a.in_state_seconds), "num"), td((a.queues || []).join(", "), "muted")];
    }), 4, "live.no_agents");

    fill("calls", calls.map(function (c) {
      var state = c.state || "unknown", waited = c.wait_seconds;
      if (waited === undefined && NOT_ANSWERED.indexOf(state) >= 0) waited = c.duration;
      // the CRM customer's name when the number is a customer's, else the number
      return [td([el("strong", null, c.customer_name || c.caller || "\u2014"), " ",
                  el("span", "muted", c.customer_name ? c.caller : "")], "caller"),
              td(c.did || "\u2014"), td(c.queue || "\u2014"), td(c.agent || "\u2014"),
              td(el("span", "call " + state, known("call_state.", state))),
              td(secs(waited), "num"), td(secs(c.talk_seconds), "num"), td(secs(c.duration), "num")];
    }), 8, "live.no_calls");
  }

  function renderHealth(h) {
    var badge = document.getElementById("health-status");
    if (badge && h.status) {
      badge.className = "badge " + h.status;
      badge.textContent = known("health.", h.status);
    }
    Object.keys(h.components || {}).forEach(function (name) {
      var pill = document.querySelector('[data-component="' + name + '"]');
      if (!pill) return;
      var c = h.components[name];
      pill.className = "pill " + (c.up ? "ok" : "bad");
      pill.title = c.state ? known("labels.component_state.", String(c.state).split(":")[0]) : "";
    });
  }

  function clock(d) { return d.toLocaleTimeString(); }
  function status(ok) {
    var line = document.getElementById("refresh");
    if (!line) return;
    if (ok) {
      failingSince = null;
      line.className = "refresh muted small";
      line.textContent = t("live.updated", {time: clock(new Date())});
    } else {
      failingSince = failingSince || new Date();
      line.className = "refresh stale small";
      line.textContent = t("live.stale", {time: clock(failingSince)});
    }
  }

  function get(url, accept, done) {
    var x = new XMLHttpRequest();
    x.open("GET", url);
    x.setRequestHeader("Accept", "application/json");
    x.timeout = 5000;
    x.onload = function () {
      if (x.status === 401) { window.location.href = "/login?next=/"; return; }  // the session expired
      if (accept.indexOf(x.status) < 0) { status(false); return; }
      try { done(JSON.parse(x.responseText)); } catch (e) { status(false); }
    };
    x.onerror = x.ontimeout = function () { status(false); };
    x.send();
  }
  function tick() {
    get("/api/v1/live", [200], function (live) { render(live); status(true); });
    get("/api/health", [200, 503], renderHealth);
  }
  setInterval(tick, 2000);  // the clocks (time in state, waiting) move even when nothing changes

  // Changes arrive at once over Server-Sent Events: redraw right after any of them.
  var pending = null;
  function soon() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; tick(); }, 100);
  }
  if (window.EventSource) {
    var events = new EventSource("/api/v1/events");
    ["agent", "call", "queue"].forEach(function (topic) { events.addEventListener(topic, soon); });
  }
})();
