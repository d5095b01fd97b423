// The agent workspace: toolbar, screen pop, disposition and note, missed calls, messages.
// Live through the event stream (/api/v1/events); every action is a call to the JSON API
// with the page's CSRF token.  No inline handlers: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  var root = document.getElementById("ws");
  if (!root) return;
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var REASONS = JSON.parse(document.getElementById("ws-reasons").textContent);  // pause reason code -> name
  var AGENT = root.dataset.agent, CSRF = root.dataset.csrf, USER = root.dataset.user;
  var CLOCK = clockOf(root.dataset.tz || "UTC");
  var base = "/api/v1/agents/" + encodeURIComponent(AGENT);
  var current = null;      // the call on the screen pop: {linkedid, caller, state}
  var agentView = null;    // this agent in the live state
  var stateAt = 0;         // when agentView arrived (local clock)

  function t(id, kw) {
    var text = T[id] || id;
    Object.keys(kw || {}).forEach(function (k) { text = text.split("{" + k + "}").join(kw[k]); });
    return text;
  }
  function $(id) { return document.getElementById(id); }
  // The API's times are UTC ("2026-11-23 02:04:05"); people read the office's clock (the
  // site's time zone), as on the server-drawn pages.
  function clockOf(zone) {
    var opts = {year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
                hourCycle: "h23"};
    try { return new Intl.DateTimeFormat("sv-SE", Object.assign({timeZone: zone}, opts)); }
    catch (e) { return new Intl.DateTimeFormat("sv-SE", Object.assign({timeZone: "UTC"}, opts)); }
  }
  function when(text) {
    if (!text) return "";
    var iso = String(text).replace(" ", "T");
    var d = new Date(/(Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : iso + "Z");
    return isNaN(d.getTime()) ? String(text) : CLOCK.format(d);
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function secs(v) {
    var s = Math.max(0, Math.floor(v || 0)), m = Math.floor(s / 60);
    s = s % 60;
    return m + ":" + (s < 10 ? "0" + s : s);
  }
  function say(box, text, bad) {
    box.textContent = text;
    box.className = "status " + (bad ? "bad" : "ok");
    box.hidden = false;
  }
  // An API error the page can say in the agent's language ("ws.error.<code>", its params
  // translated by "ws.param.<name>.<value>"); else the service's own message.
  function explain(data) {
    var id = data ? "ws.error." + data.error : "";
    if (data && !T[id]) id = "workspace.error." + data.error;
    if (data && !T[id] && data.params && data.params.rule) id = "compliance.refused." + data.params.rule;
    if (!T[id]) return "";
    var kw = {};
    Object.keys(data.params || {}).forEach(function (k) {
      kw[k] = T["ws.param." + k + "." + data.params[k]] || data.params[k];
    });
    return t(id, kw);
  }
  function api(method, url, body) {
    var opts = {method: method, credentials: "same-origin", headers: {"X-CSRF-Token": CSRF}};
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) throw new Error(explain(data) || data.message || String(res.status));
        return data;
      });
    });
  }

  // -- the agent's state and the toolbar -------------------------------------------
  function showState(view, polled) {
    // a polled snapshot answered before the last event arrived is older than what is shown
    if (polled && view && agentView && view.since < agentView.since) return;
    if (view) { agentView = view; stateAt = Date.now(); }
    var state = agentView ? agentView.state : "logged_out";
    var box = $("ws-state");
    var reason = state === "paused" && agentView.pause_reason ? REASONS[agentView.pause_reason] : "";
    box.textContent = reason ? t("workspace.paused_for", {reason: reason}) : t("agent_state." + state);
    box.className = "state " + state;
    var signed = $("ws-signed");
    signed.textContent = t(state === "logged_out" ? "workspace.signed_out" : "workspace.signed_in");
    signed.className = "flag " + (state === "logged_out" ? "no" : "yes");
    $("ws-answer-hint").hidden = state !== "ringing";
    tick();
    updateButtons();
  }

  // What each toolbar control can do now, from the agent's state and their call's: a
  // button that cannot act is disabled rather than answering with an error.
  var ON_CALL = ["talking", "held", "consulting", "conference"];
  function callState() { return current && current.state !== "ended" ? current.state : ""; }
  function controls() {
    var state = agentView ? agentView.state : "logged_out", call = callState();
    var signedIn = state !== "logged_out", onCall = ON_CALL.indexOf(call) >= 0;
    var held = !!(agentView && agentView.awaiting_disposition);
    return {
      "login": !signedIn, "login-long": !signedIn,
      "logout": signedIn && !onCall && state !== "in_call",
      "ws-reason": signedIn && state !== "paused", "pause": signedIn && state !== "paused",
      "unpause": state === "paused" && !held,
      "ws-number": !onCall && state !== "ringing", "dial": !onCall && state !== "ringing",
      "hold": call === "talking", "unhold": call === "held",
      "ws-to-kind": call === "talking" || call === "held", "ws-to": call === "talking" || call === "held",
      "transfer": call === "talking", "consult": call === "talking" || call === "held",
      "consult/complete": call === "consulting", "consult/cancel": call === "consulting",
      "conference": call === "consulting", "hangup": onCall
    };
  }
  function updateButtons() {
    var can = controls();
    Object.keys(can).forEach(function (name) {
      var control = name.indexOf("ws-") === 0 ? $(name) : root.querySelector('.toolbar [data-act="' + name + '"]');
      if (control) control.disabled = !can[name];
    });
  }
  function tick() {
    if (!agentView) return;
    var gone = (Date.now() - stateAt) / 1000;
    $("ws-since").textContent = secs((agentView.in_state_seconds || 0) + gone);
    var wrap = $("ws-wrapup");
    if (agentView.state === "wrapup" && agentView.awaiting_disposition) {
      wrap.textContent = t("workspace.awaiting_disposition");
      wrap.hidden = false;
    } else if (agentView.state === "wrapup" && typeof agentView.wrapup_left === "number") {
      wrap.textContent = t("ws.wrapup_left", {seconds: Math.max(0, Math.ceil(agentView.wrapup_left - gone))});
      wrap.hidden = false;
    } else {
      wrap.hidden = true;
    }
  }
  setInterval(tick, 1000);

  var ACTIONS = {
    "login": function () { return api("POST", base + "/login", {mode: "ring"}); },
    "login-long": function () { return api("POST", base + "/login", {mode: "long"}); },
    "pause": function () { return api("POST", base + "/pause", {reason: $("ws-reason").value}); },
    "dial": function () { return api("POST", base + "/dial", {number: $("ws-number").value.trim()}); },
    "transfer": function () { return api("POST", base + "/transfer", target()); },
    "consult": function () { return api("POST", base + "/consult", target()); }
  };
  function target() { return {to_kind: $("ws-to-kind").value, to: $("ws-to").value.trim()}; }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-act]");
    if (!button) return;
    var act = button.getAttribute("data-act");
    var run = ACTIONS[act] || function () { return api("POST", base + "/" + act); };
    button.disabled = true;
    run().then(function (data) {
      say($("ws-status"), data.phone_ringing ? t("ws.phone_ringing") : t("ws.done"), false);
      refresh();
    }).catch(function (err) {
      say($("ws-status"), t("ws.failed", {message: err.message}), true);
    }).then(function () {
      if (button.closest(".toolbar")) updateButtons(); else button.disabled = false;
    });
  });

  // Hotkeys for the call in hand (listed on the page, aria-keyshortcuts on each control):
  // Alt+Shift+H hang up, O hold or resume, T transfer, D the disposition.  Never while
  // typing in a field, and only when the control can act.
  var HOTKEYS = {KeyH: ["hangup"], KeyO: ["hold", "unhold"], KeyT: ["transfer"]};
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) return;
    var typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (typing) return;
    if (event.code === "KeyD") {
      var pick = document.querySelector("#outcome select[name=disposition]");
      if (pick && !$("pop-body").hidden) { event.preventDefault(); pick.focus(); }
      return;
    }
    var button = (HOTKEYS[event.code] || []).map(function (act) {
      return root.querySelector('.toolbar [data-act="' + act + '"]');
    }).filter(function (b) { return b && !b.disabled; })[0];
    if (!button) return;
    event.preventDefault();
    button.click();
  });

  // -- screen pop ------------------------------------------------------------------
  function pop(call) {
    var same = current && current.linkedid === call.linkedid;
    if (same && current.state === "ended") return;  // a snapshot polled before it ended
    current = {linkedid: call.linkedid, caller: call.caller, state: call.state};
    // the panels that follow the call (callscript.js, kb.js): each call, each state
    document.dispatchEvent(new CustomEvent("cc:call", {detail: Object.assign({}, call, current)}));
    $("pop-empty").hidden = true;
    $("pop-body").hidden = false;
    $("pop-number").textContent = call.caller || t("ws.unknown_number");
    var st = $("pop-call-state");
    st.textContent = t("call_state." + call.state);
    st.className = "state " + call.state;
    updateButtons();
    if (same) return;
    $("outcome").reset();
    $("outcome-status").hidden = true;
    $("pop-dnc-status").hidden = true;
    if (!call.caller) return;
    // the call event looked the caller up already (its customer, or null): the pop uses that
    // answer rather than looking the number up again; a call from /api/v1/live carries none
    var looked = "customer" in call ? "&customer=" + (call.customer ? call.customer.id : 0) : "";
    api("GET", "/api/v1/workspace/pop?number=" + encodeURIComponent(call.caller) + looked).then(showPop)
      .catch(function (err) { say($("ws-status"), t("ws.failed", {message: err.message}), true); });
  }
  function showPop(data) {
    var o = data.origin || {}, bits = [];
    if (o.region) bits.push(o.region);
    if (o.operator) bits.push(o.operator);
    var kinds = {mobile: "ws.origin_mobile", landline: "ws.origin_landline",
                 international: "ws.origin_international"};
    if (!bits.length) bits.push(t(kinds[o.kind] || "ws.origin_unknown"));
    $("pop-origin").textContent = bits.join(" · ");
    var c = data.customer, link = $("pop-customer");
    // a work order about this call (its linkedid, so its recording) and its customer
    $("pop-workorder").href = "/workorders/new?source=call&linkedid=" + encodeURIComponent(current ? current.linkedid : "") +
      (c ? "&customer=" + c.id : "");
    link.hidden = !c;
    $("pop-unknown").hidden = !!c;
    $("pop-new-order").hidden = !c;
    $("pop-category").hidden = !(c && c.category);
    $("pop-tags").textContent = c && c.tags && c.tags.length ? "#" + c.tags.join(" #") : "";
    if (c) {
      link.textContent = c.name;
      link.href = "/customers/" + c.id;
      $("pop-new-order").href = "/orders/new?customer=" + c.id + "&linkedid=" + encodeURIComponent((current && current.linkedid) || "");
      $("pop-category").textContent = c.category || "";
    } else {  // an unknown caller: the new-customer form with their number filled in
      $("pop-new-customer").href = "/customers/new?phone=" + encodeURIComponent(data.number || "");
    }
    var list = $("pop-history");
    list.textContent = "";
    (data.history || []).forEach(function (h) {
      var li = el("li", "h-" + h.kind);
      li.appendChild(el("span", "muted", when(h.at) + " "));
      if (h.kind === "note") {
        li.appendChild(el("span", null, h.author + ": " + h.body));
      } else {
        li.appendChild(el("span", null, t("ws.history_call", {direction: t("direction." + h.direction),
          agent: h.agent || "\u2014", disposition: t("disposition." + h.disposition)})));
        if (h.outcome) li.appendChild(el("strong", null, " " + (h.outcome_name || h.outcome)));
        if (h.note) li.appendChild(el("span", "muted", " \u201c" + h.note + "\u201d"));
      }
      list.appendChild(li);
    });
    if (!list.children.length) list.appendChild(el("li", "muted", t("ws.no_history")));
  }

  // the caller asked not to be called: onto the do-not-call list (services/compliance.py)
  $("pop-dnc").addEventListener("click", function () {
    if (!current || !current.caller) return;
    if (!window.confirm(t("dnc.pop_confirm", {number: current.caller}))) return;
    api("POST", "/api/v1/dnc", {number: current.caller, source: "pop", reason: t("dnc.pop_reason")})
      .then(function () { say($("pop-dnc-status"), t("dnc.pop_added"), false); })
      .catch(function (err) { say($("pop-dnc-status"), t("ws.failed", {message: err.message}), true); });
  });

  $("outcome").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) return;
    var form = event.target;
    api("POST", base + "/calls/" + encodeURIComponent(current.linkedid) + "/outcome",
        {disposition: form.disposition.value, note: form.note.value})
      .then(function () {
        say($("outcome-status"), t("ws.saved"), false); loadMissed(); refresh();
        document.dispatchEvent(new CustomEvent("cc:outcome-saved"));  // the campaign panel's next entry
      })
      .catch(function (err) { say($("outcome-status"), t("ws.failed", {message: err.message}), true); });
  });

  // -- missed calls ----------------------------------------------------------------
  function loadMissed() {
    api("GET", base + "/missed").then(function (data) {
      var body = document.querySelector("#missed tbody");
      body.textContent = "";
      (data.items || []).forEach(function (m) {
        var tr = el("tr");
        tr.appendChild(el("td", null, m.number));
        tr.appendChild(el("td", null, m.customer ? m.customer.name : ""));
        tr.appendChild(el("td", "muted", when(m.at)));
        tr.appendChild(el("td", "num", String(m.tries)));
        var cell = el("td"), button = el("button", "small", t("ws.call_back"));
        button.setAttribute("data-act", "dial");
        button.addEventListener("click", function () { $("ws-number").value = m.number; }, true);
        cell.appendChild(button);
        tr.appendChild(cell);
        body.appendChild(tr);
      });
      if (!body.children.length) {
        var empty = el("tr", "empty"), cell = el("td", null, t("ws.no_missed"));
        cell.colSpan = 5; empty.appendChild(cell); body.appendChild(empty);
      }
    }).catch(function () {});
  }

  // -- messages --------------------------------------------------------------------
  function showMessage(m, prepend) {
    var list = $("message-list");
    var li = el("li", m.from === USER ? "mine" : (m.read_at ? "" : "unread"));
    li.appendChild(el("span", "muted", when(m.sent_at) + " " + m.from + " \u2192 " + m.to + ": "));
    li.appendChild(el("span", null, m.body));
    if (m.from !== USER && !m.read_at) {
      li.addEventListener("click", function () {
        api("POST", "/api/v1/messages/" + m.id + "/read").then(function () { li.className = ""; });
      });
    }
    if (prepend) list.insertBefore(li, list.firstChild); else list.appendChild(li);
  }
  function loadMessages() {
    api("GET", "/api/v1/messages").then(function (data) {
      $("message-list").textContent = "";
      (data.items || []).forEach(function (m) { showMessage(m, false); });
    }).catch(function () {});
  }
  $("message-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    api("POST", "/api/v1/messages", {to: form.to.value, body: form.body.value}).then(function () {
      form.body.value = "";
    }).catch(function (err) { say($("ws-status"), t("ws.failed", {message: err.message}), true); });
  });

  // -- live ------------------------------------------------------------------------
  function mine(call) { return call.agent === AGENT || call.offered_to === AGENT; }
  function refresh() {
    api("GET", "/api/v1/live").then(function (live) {
      showState((live.agents || []).filter(function (a) { return a.name === AGENT; })[0] || null, true);
      var call = (live.calls || []).filter(mine)[0];
      if (call) pop(call);
      else if (current && current.state !== "ended") { current.state = "ended"; updateButtons(); }
    }).catch(function () {});
  }
  var stream = new EventSource("/api/v1/events");
  stream.addEventListener("agent", function (e) {
    var data = JSON.parse(e.data);
    if (data.name === AGENT) showState(data);
  });
  stream.addEventListener("call", function (e) {
    var data = JSON.parse(e.data);
    if (!mine(data)) return;
    if (data.event === "offered" || data.event === "dialling" || (current && current.linkedid === data.linkedid)) {
      pop(data);
    }
    if (data.event === "ended") loadMissed();
  });
  stream.addEventListener("message", function (e) { showMessage(JSON.parse(e.data), true); });
  stream.addEventListener("open", refresh);

  refresh();
  loadMissed();
  loadMessages();
})();
