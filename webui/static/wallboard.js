// The supervisor's wallboard.  It starts from the JSON embedded in the page (the same as
// GET /api/v1/wallboard), applies every change from the Server-Sent Events stream as it
// arrives (agents, calls, queues), and fetches the JSON again when a call ends (today's
// figures change then), when the stream (re)connects, and once a minute as a safety net.
// Clocks (time in state, waiting, talking) tick here every second, without the server.
// The buttons call the same API as any program: POST with the page's CSRF token.
// ?tv=1 (page.tv) is the wall-screen mode: dark, large type, and no button anywhere.
// The supervisor's own phone (rung to listen in) is kept with their account on the server.
(function () {
  "use strict";
  var root = document.getElementById("wallboard");
  if (!root) return;
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var page = JSON.parse(document.getElementById("wb-data").textContent);
  var names = page.names || {}, reasons = page.reasons || [];
  var tv = !!page.tv, phone = page.phone || "";
  var OLD_PHONE_KEY = "cc.wallboard.phone";  // where one browser kept the phone before it was the account's
  var NOT_ANSWERED = ["new", "queued", "ringing", "no_agent"];  // nobody has answered the caller
  var board = null;  // {totals, queues[], agents{}, calls{}, trunks[], date, timezone}

  // -- helpers -------------------------------------------------------------------------
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
    return T[prefix + value] || value;
  }
  function num(v) { return typeof v === "number" && isFinite(v); }
  function secs(v) {
    if (!num(v)) return "\u2014";
    var s = Math.max(0, Math.floor(v)), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    return (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (s < 10 ? "0" + s : s);
  }
  function pct(v) { return num(v) ? Math.round(v * 100) + "%" : "\u2014"; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function cell(content, cls) {
    var td = el("td", cls);
    (Array.isArray(content) ? content : [content]).forEach(function (c) {
      if (c === null || c === undefined) return;
      td.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    });
    return td;
  }
  // A clock: shows base seconds plus the time since it was set, and keeps ticking.
  function clock(base, running, tag) {
    var e = el(tag || "span", "clock", secs(base));
    if (num(base) && running) { e.dataset.base = base; e.dataset.at = Date.now(); }
    return e;
  }
  function button(label, action, data, cls) {
    var b = el("button", "small " + (cls || ""), label);
    b.type = "button";
    b.dataset.action = action;
    Object.keys(data).forEach(function (k) { b.dataset[k] = data[k]; });
    return b;
  }
  function stamp(item) { item._at = Date.now(); return item; }
  function since(item) { return (Date.now() - (item._at || Date.now())) / 1000; }

  // -- state -----------------------------------------------------------------------------
  function load(data) {
    var agents = {}, calls = {};
    (data.agents || []).forEach(function (a) { agents[a.name] = stamp(a); });
    (data.calls || []).forEach(function (c) { calls[c.linkedid] = stamp(c); });
    board = {totals: data.totals || {}, queues: (data.queues || []).map(stamp), agents: agents, calls: calls,
             trunks: data.trunks || [], date: data.date, timezone: data.timezone};
    draw();
  }
  function apply(topic, data) {
    if (!board) return;
    if (topic === "agent" && data.name) {
      board.agents[data.name] = stamp(Object.assign({}, board.agents[data.name] || {}, data));
    } else if (topic === "call" && data.linkedid) {
      if (data.event === "ended" || data.state === "ended") {
        delete board.calls[data.linkedid];
        refreshSoon();  // today's figures changed
      } else {
        if (!board.calls[data.linkedid]) refreshSoon();  // a new caller: their customer's name from the server
        board.calls[data.linkedid] = stamp(Object.assign({}, board.calls[data.linkedid] || {}, data));
      }
    } else if (topic === "queue" && data.name) {
      var q = board.queues.filter(function (x) { return x.name === data.name; })[0];
      if (!q) { q = {name: data.name, offered: 0, answered: 0, abandoned: 0, no_agent: 0}; board.queues.push(q); }
      ["waiting", "longest_wait", "members"].forEach(function (k) { if (k in data) q[k] = data[k]; });
      stamp(q);
    } else {
      return;
    }
    drawSoon();
  }

  // Redraw at most every 200 ms, and never while a button is being pressed (a table
  // rebuilt between mouse-down and mouse-up would swallow the click).
  var drawTimer = null, pressing = false;
  function drawSoon() {
    if (drawTimer) return;
    drawTimer = setTimeout(function () {
      drawTimer = null;
      if (pressing) { drawSoon(); return; }
      draw();
    }, 200);
  }
  root.addEventListener("pointerdown", function () { pressing = true; });
  document.addEventListener("pointerup", function () { setTimeout(function () { pressing = false; }, 0); });

  // -- drawing ---------------------------------------------------------------------------
  function tile(id, text, small, level) {
    var box = document.getElementById(id);
    var figure = box.querySelector(".figure");
    figure.textContent = "";
    figure.appendChild(typeof text === "object" ? text : document.createTextNode(String(text)));
    if (small !== undefined) figure.appendChild(el("small", null, small));
    box.className = "tile" + (level ? " " + level : "");
  }
  function slLevel(v) { return !num(v) ? "" : v >= 0.8 ? "good" : v >= 0.6 ? "hot" : "bad"; }
  function fill(id, rows, cols, emptyId) {
    var body = document.querySelector("#" + id + " tbody");
    body.textContent = "";
    if (!rows.length) {
      var tr = el("tr", "empty"), td = cell(t(emptyId));
      td.colSpan = cols; tr.appendChild(td); body.appendChild(tr);
    }
    rows.forEach(function (cells) {
      var tr = el("tr");
      cells.forEach(function (c) { tr.appendChild(c); });
      body.appendChild(tr);
    });
  }
  function agentList() {
    return Object.keys(board.agents).sort().map(function (k) { return board.agents[k]; });
  }
  function callList() {
    return Object.keys(board.calls).map(function (k) { return board.calls[k]; })
      .sort(function (a, b) { return (b.duration || 0) - (a.duration || 0); });
  }
  function waitingIn(queue) {
    // The callers of this queue no agent has answered yet (queued, or ringing an agent: the
    // engine's "waiting" flag), and the longest wait among the same calls: the two figures
    // always agree.  From the live calls, so the clock ticks by itself.
    var count = 0, longest = 0;
    callList().forEach(function (c) {
      if (c.queue === queue && c.waiting) {
        count += 1;
        longest = Math.max(longest, (c.duration || 0) + since(c));
      }
    });
    return {count: count, longest: longest};
  }

  function draw() {
    var agents = agentList(), calls = callList(), totals = board.totals;
    var free = agents.filter(function (a) { return a.state === "free"; }).length;
    var signedIn = agents.filter(function (a) { return a.state && a.state !== "logged_out"; }).length;
    var waiting = 0, longest = 0;
    board.queues.forEach(function (q) {
      var w = waitingIn(q.name);
      q._waiting = w.count;
      q._longest = w.longest;
      waiting += w.count;
      longest = Math.max(longest, w.longest);
    });
    var day = document.getElementById("wb-day");
    day.textContent = board.date ? t("wallboard.today", {date: board.date, timezone: board.timezone}) : "";
    tile("wb-waiting", waiting, undefined, waiting ? "hot" : "");
    tile("wb-longest", clock(longest, waiting > 0), undefined, longest >= 60 ? "bad" : longest >= 20 ? "hot" : "");
    tile("wb-answered", totals.answered || 0, " / " + (totals.offered || 0));
    tile("wb-abandoned", totals.abandoned || 0, undefined, totals.abandoned ? "hot" : "");
    tile("wb-no-agent", totals.no_agent || 0, undefined, totals.no_agent ? "hot" : "");
    tile("wb-sl", pct(totals.service_level), undefined, slLevel(totals.service_level));
    tile("wb-agents", free, "/" + signedIn);

    fill("wb-queues", board.queues.map(function (q) {
      var available = agents.filter(function (a) {
        return a.state === "free" && (a.queues || []).indexOf(q.name) >= 0;
      }).length;
      var memberCount = (q.members || []).length;
      return [cell([el("strong", null, q.name), " ", el("span", "muted", q.display_name || "")]),
              cell(q._waiting, "num big" + (q._waiting ? " hot" : "")),
              cell(clock(q._longest, q._waiting > 0), "num"),
              cell(available + " / " + memberCount, "num"),
              cell(q.offered || 0, "num"), cell(q.answered || 0, "num"),
              cell(q.abandoned || 0, "num" + (q.abandoned ? " hot" : "")),
              cell(q.no_agent || 0, "num" + (q.no_agent ? " hot" : "")),
              cell([pct(q.service_level), el("small", "muted", " \u2264" + (q.service_level_seconds || 20) + "s")],
                   "num sl " + slLevel(q.service_level)),
              cell(secs(q.average_answer_seconds), "num")];
    }), 10, "live.no_queues");

    drawAgents(agents, signedIn);
    fill("wb-calls", calls.map(function (c) {
      var state = c.state || "unknown", answered = NOT_ANSWERED.indexOf(state) < 0;
      var actions = [];
      if (tv) {
        // the wall screen: no buttons
      } else if (c.agent && answered) {
        actions.push(button(t("wallboard.listen"), "spy", {agent: c.agent, mode: "listen"}),
                     button(t("wallboard.whisper"), "spy", {agent: c.agent, mode: "whisper"}),
                     button(t("wallboard.barge"), "spy", {agent: c.agent, mode: "barge"}));
      }
      if (!tv) actions.push(button(t("wallboard.hangup"), "hangup", {linkedid: c.linkedid}, "danger"));
      var wait = answered ? c.wait_seconds : (c.duration || 0) + since(c);
      // the CRM customer's name when the number is a customer's, else the number
      return [cell([el("strong", null, c.customer_name || c.caller || "\u2014"), " ",
                    el("span", "muted", c.customer_name ? c.caller : "")], "caller"),
              cell(c.queue || "\u2014"),
              cell(c.agent ? [el("strong", null, c.agent), " " + (names[c.agent] || "")] : "\u2014"),
              cell(el("span", "call " + state, known("call_state.", state))),
              cell(clock(wait, !answered), "num"),
              cell(clock(answered ? (c.talk_seconds || 0) + since(c) : null, answered), "num"),
              cell(clock((c.duration || 0) + since(c), true), "num")].concat(tv ? [] : [cell(actions, "actions")]);
    }), tv ? 7 : 8, "live.no_calls");
    drawTrunks(calls);
  }

  function drawAgents(agents, signedIn) {
    var grid = document.getElementById("wb-agents-grid");
    document.getElementById("wb-agent-count").textContent = t("wallboard.signed_in", {n: signedIn});
    grid.textContent = "";
    if (!agents.length) { grid.appendChild(el("p", "muted", t("live.no_agents"))); return; }
    var talking = {};
    callList().forEach(function (c) { if (c.agent) talking[c.agent] = c; });
    agents.forEach(function (a) {
      var state = a.state || "unknown";
      var card = el("div", "agent-card " + state);
      card.dataset.agent = a.name;
      var head = el("div", "agent-head");
      head.appendChild(el("strong", null, a.name));
      head.appendChild(el("span", "agent-name", a.display_name || names[a.name] || ""));
      card.appendChild(head);
      var line = el("div", "agent-state");
      line.appendChild(el("span", "state " + state, known("agent_state.", state)));
      line.appendChild(clock(a.in_state_seconds + since(a), true));
      card.appendChild(line);
      var detail = a.pause_reason ? t("wallboard.paused_for", {reason: reasonLabel(a.pause_reason)})
        : talking[a.name] ? t("wallboard.talking_with",
                              {caller: talking[a.name].customer_name || talking[a.name].caller || "\u2014"})
        : (a.queues || []).join(", ");
      card.appendChild(el("div", "agent-detail muted", detail));
      if (tv) { grid.appendChild(card); return; }
      var actions = el("div", "agent-actions");
      if (state === "in_call") {
        actions.appendChild(button(t("wallboard.listen"), "spy", {agent: a.name, mode: "listen"}));
        actions.appendChild(button(t("wallboard.whisper"), "spy", {agent: a.name, mode: "whisper"}));
        actions.appendChild(button(t("wallboard.barge"), "spy", {agent: a.name, mode: "barge"}));
      }
      if (state === "paused") {
        actions.appendChild(button(t("wallboard.unpause"), "unpause", {agent: a.name}));
      } else if (state !== "logged_out") {
        actions.appendChild(button(t("wallboard.pause"), "pause", {agent: a.name}));
      }
      if (state !== "logged_out") {
        actions.appendChild(button(t("wallboard.logout"), "logout", {agent: a.name}, "danger"));
      }
      card.appendChild(actions);
      grid.appendChild(card);
    });
  }

  function drawTrunks(calls) {
    var box = document.getElementById("wb-trunks");
    box.textContent = "";
    if (!board.trunks.length) { box.appendChild(el("p", "muted", t("wallboard.no_trunks"))); return; }
    board.trunks.forEach(function (tr) {
      var used = calls.filter(function (c) { return c.trunk === tr.name; }).length;
      var max = tr.max_channels || 0;
      var row = el("div", "trunk" + (max && used >= max ? " full" : ""));
      row.dataset.trunk = tr.name;
      row.appendChild(el("strong", null, tr.name));
      var bar = el("div", "bar"), fillBar = el("span");
      fillBar.style.width = (max ? Math.min(100, Math.round(used * 100 / max)) : (used ? 100 : 0)) + "%";
      bar.appendChild(fillBar);
      row.appendChild(bar);
      row.appendChild(el("span", "num", max ? t("wallboard.trunk_use", {n: used, max: max})
                                              : t("wallboard.trunk_use_unlimited", {n: used})));
      box.appendChild(row);
    });
  }

  function reasonLabel(code) {
    var r = reasons.filter(function (x) { return x.code === code; })[0];
    return r ? r.label : code;
  }

  function tick() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll(".clock[data-at]"), function (e) {
      e.textContent = secs(Number(e.dataset.base) + (now - Number(e.dataset.at)) / 1000);
    });
  }
  setInterval(tick, 500);  // half-second steps: no clock lags a whole second behind

  // -- server ------------------------------------------------------------------------------
  function say(text, bad) {
    var box = document.getElementById("wb-status");
    box.textContent = text;
    box.className = "status " + (bad ? "bad" : "ok");
    box.hidden = false;
    clearTimeout(say.timer);
    say.timer = setTimeout(function () { box.hidden = true; }, 6000);
  }
  function problem(res, body) {
    var code = (body && body.error) || "", tail = code.split(".").pop();
    return T["error.code." + code] || T["error.code." + tail] || T["error.status." + res.status] ||
      (body && body.message) || String(res.status);
  }
  function signIn() {  // the session ended: back here after signing in (in the wall-screen mode too)
    window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search);
  }
  // POST with the page's CSRF token; ``ok(data)`` on success, the problem said otherwise.
  function post(url, body, done, ok) {
    return fetch(url, {method: "POST", credentials: "same-origin",
                       headers: {"Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf},
                       body: JSON.stringify(body || {})})
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (data) {
          if (res.status === 401) { signIn(); return; }
          if (!res.ok) { say(t("wallboard.failed") + " " + problem(res, data), true); return; }
          if (ok) ok(data);
          say(typeof done === "function" ? done(data) : done, false);
        });
      })
      .catch(function () { say(t("wallboard.failed") + " " + t("wallboard.offline"), true); });
  }
  function refresh() {
    fetch("/api/v1/wallboard", {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (res) {
        if (res.status === 401) { signIn(); return null; }
        return res.ok ? res.json() : null;
      })
      .then(function (data) { if (data) load(data); })
      .catch(function () { link("offline"); });
  }
  var pending = null;
  function refreshSoon() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; refresh(); }, 150);
  }
  setInterval(refresh, 60000);

  function link(state) {
    var e = document.getElementById("wb-link");
    e.dataset.state = state;
    e.textContent = known("wallboard.link_", state);
  }
  if (window.EventSource) {
    var events = new EventSource("/api/v1/events");
    var opened = false;
    events.onopen = function () {
      link("live");
      if (opened) refresh();  // a reconnection: what was missed meanwhile
      opened = true;
    };
    events.onerror = function () { link("offline"); };
    ["agent", "call", "queue"].forEach(function (topic) {
      events.addEventListener(topic, function (e) {
        try { apply(topic, JSON.parse(e.data)); } catch (err) { refreshSoon(); }
      });
    });
  } else {
    link("offline");
  }

  // -- the supervisor's phone and the buttons ----------------------------------------------
  var phoneDialog = document.getElementById("wb-phone-dialog");
  var pauseDialog = document.getElementById("wb-pause-dialog");
  var phoneInput = document.getElementById("wb-phone-input");
  var afterPhone = null;
  function myPhone() { return phone; }
  function showPhone() {
    var b = document.getElementById("wb-phone");
    if (b) b.textContent = phone ? t("wallboard.my_phone", {phone: phone}) : t("wallboard.my_phone_unset");
  }
  // Kept with the account: saved on the server, read back by the page on any browser.
  function savePhone(value, then) {
    post("/api/v1/wallboard/phone", {phone: value}, function () { return t("wallboard.phone_saved", {phone: phone}); },
         function (data) {
           phone = data.phone || "";
           showPhone();
           if (then) setTimeout(function () { then(phone); }, 0);
         });
  }
  function askPhone(then) {
    afterPhone = then || null;
    phoneInput.value = myPhone();
    document.getElementById("wb-phone-error").hidden = true;
    phoneDialog.showModal();
    phoneInput.focus();
  }
  if (!tv) document.getElementById("wb-phone-save").addEventListener("click", function (event) {
    var value = phoneInput.value.trim();
    if (!/^[0-9]{2,16}$/.test(value)) {
      event.preventDefault();
      document.getElementById("wb-phone-error").hidden = false;
      return;
    }
    var then = afterPhone;
    afterPhone = null;
    savePhone(value, then);
  });
  Array.prototype.forEach.call(document.querySelectorAll("dialog [data-close]"), function (b) {
    b.addEventListener("click", function () { afterPhone = null; b.closest("dialog").close(); });
  });
  if (!tv) {
    document.getElementById("wb-phone").addEventListener("click", function () { askPhone(null); });
    // a phone this browser kept before it was the account's: handed to the account once
    try {
      var old = localStorage.getItem(OLD_PHONE_KEY);
      if (old) {
        localStorage.removeItem(OLD_PHONE_KEY);
        if (!phone) savePhone(old, null);
      }
    } catch (e) { /* no storage: nothing to hand over */ }
  }

  var pauseAgent = null;
  var select = document.getElementById("wb-pause-reason") || el("select");
  reasons.forEach(function (r) {
    var o = el("option", null, r.label);
    o.value = r.code;
    select.appendChild(o);
  });
  if (!tv) document.getElementById("wb-pause-ok").addEventListener("click", function () {
    if (!pauseAgent || !select.value) return;
    post("/api/v1/agents/" + encodeURIComponent(pauseAgent) + "/pause", {reason: select.value},
         t("wallboard.done_pause", {agent: pauseAgent, reason: reasonLabel(select.value)}));
    pauseAgent = null;
  });

  var actions = {
    spy: function (d) {
      var go = function (phone) {
        post("/api/v1/agents/" + encodeURIComponent(d.agent) + "/spy", {phone: phone, mode: d.mode},
             t("wallboard.done_spy", {phone: phone, agent: d.agent, mode: t("wallboard." + d.mode)}));
      };
      if (myPhone()) go(myPhone()); else askPhone(go);
    },
    hangup: function (d) {
      if (window.confirm(t("wallboard.confirm_hangup"))) {
        post("/api/v1/calls/" + encodeURIComponent(d.linkedid) + "/hangup", {}, t("wallboard.done_hangup"));
      }
    },
    logout: function (d) {
      if (window.confirm(t("wallboard.confirm_logout", {agent: d.agent}))) {
        post("/api/v1/agents/" + encodeURIComponent(d.agent) + "/logout", {},
             t("wallboard.done_logout", {agent: d.agent}));
      }
    },
    pause: function (d) {
      if (!reasons.length) { say(t("wallboard.no_reasons"), true); return; }
      pauseAgent = d.agent;
      document.getElementById("wb-pause-title").textContent = t("wallboard.pause_title", {agent: d.agent});
      pauseDialog.showModal();
    },
    unpause: function (d) {
      post("/api/v1/agents/" + encodeURIComponent(d.agent) + "/unpause", {},
           t("wallboard.done_unpause", {agent: d.agent}));
    }
  };
  root.addEventListener("click", function (event) {
    var b = event.target.closest("button[data-action]");
    if (b && actions[b.dataset.action]) actions[b.dataset.action](b.dataset);
  });

  showPhone();
  load(page.board);
})();
