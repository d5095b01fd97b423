// The agent's campaign panel in the workspace: the entry offered to them (preview mode) or put
// through to them by the dialer (progressive, power, predictive) with its customer and the
// campaign's script; preview: dial, skip with a reason, or call back at a time.
// After the disposition of the call is saved (workspace.js says so) the next entry comes by
// itself when the campaign's auto-next is on.  No inline handlers (Content-Security-Policy).
(function () {
  "use strict";
  var root = document.getElementById("ws"), panel = document.getElementById("campaign-panel");
  if (!root || !panel || !root.dataset.agent) return;
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var base = "/api/v1/agents/" + encodeURIComponent(root.dataset.agent) + "/campaign";
  var entry = null, timer = null;

  function $(id) { return document.getElementById(id); }
  function t(id, kw) {
    var text = T[id] || id;
    Object.keys(kw || {}).forEach(function (k) { text = text.split("{" + k + "}").join(kw[k]); });
    return text;
  }
  function say(text, bad) {
    var box = $("cp-status");
    box.textContent = text;
    box.className = "status " + (bad ? "bad" : "ok");
    box.hidden = !text;
  }
  function api(method, url, body) {
    var opts = {method: method, credentials: "same-origin", headers: {"X-CSRF-Token": root.dataset.csrf}};
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) throw new Error(T["campaigns.error." + data.error] || data.message || String(res.status));
        return data;
      });
    });
  }

  function show(view) {
    panel.hidden = !view.campaigns.length && !view.entry;
    entry = view.entry;
    $("cp-empty").hidden = !!entry || view.waiting;
    $("cp-waiting").hidden = !!entry || !view.waiting;
    $("cp-body").hidden = !entry;
    $("cp-campaign").textContent = view.campaign ? view.campaign.display_name : "";
    clearTimeout(timer);
    if (!entry) return;
    $("cp-number").textContent = entry.number;
    $("cp-name").textContent = entry.customer_name || entry.name || "";
    $("cp-customer").hidden = !entry.customer_url;
    if (entry.customer_url) $("cp-customer").href = entry.customer_url;
    $("cp-callback").hidden = !entry.next_attempt_at;
    var data = $("cp-data");
    data.textContent = "";
    Object.keys(entry.data || {}).forEach(function (k) {
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = k;
      dd.textContent = String(entry.data[k]);
      data.appendChild(dt);
      data.appendChild(dd);
    });
    // a call script attached to the campaign wins over its free text (the script panel walks it)
    var structured = view.campaign && view.campaign.call_script;
    $("cp-script").textContent = structured ? t("campaigns.call_script_wins", {script: structured})
                                            : (view.campaign ? view.campaign.script : "");
    var attempt = entry.attempt;
    var dialling = entry.state === "dialling";
    $("cp-result").textContent = attempt && dialling ? (T["calllists.result." + attempt.result] || attempt.result) : "";
    $("cp-dial").textContent = dialling ? t("campaigns.dial_again") : t("campaigns.dial");
    var byItself = !!(view.campaign && view.campaign.dialled);  // the dialer placed the call: nothing to dial
    $("cp-dial").hidden = byItself;
    $("cp-skip").hidden = byItself;
    $("cp-after").hidden = !dialling;
    if (byItself) say(t("campaigns.dialer.by_itself"), false);
    if (dialling) timer = setTimeout(load, 5000);  // the call's result, once it has ended
  }
  function load() {
    return api("GET", base).then(show).catch(function (err) { say(err.message, true); });
  }
  function act(path, body, done) {
    if (!entry) return;
    api("POST", base + "/entries/" + entry.id + "/" + path, body)
      .then(function () { say(done, false); return load(); })
      .catch(function (err) { say(err.message, true); load(); });
  }

  $("cp-next").addEventListener("click", function () {
    api("POST", base + "/next").then(show).catch(function (err) { say(err.message, true); });
  });
  $("cp-dial").addEventListener("click", function () { act("dial", undefined, t("campaigns.dialling")); });
  $("cp-skip").addEventListener("click", function () {
    act("skip", {reason: $("cp-reason").value}, t("campaigns.skip_done"));
    $("cp-reason").value = "";
  });
  $("cp-later").addEventListener("click", function () {
    act("callback", {at: $("cp-at").value}, t("campaigns.callback_set"));
  });
  document.addEventListener("cc:outcome-saved", load);
  load();
})();
