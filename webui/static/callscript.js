// The call script panel in the workspace (话术): the script of the agent's call (its
// campaign's, else its queue's) step by step in the agent's language; a question's answer is
// saved into the caller's customer record (the customer's version sent back as If-Match),
// the path taken is kept with the call.  workspace.js tells which call is on the screen pop
// ("cc:call"); the rest is /api/v1/scripts.  No inline handlers (Content-Security-Policy).
(function () {
  "use strict";
  var root = document.getElementById("ws"), panel = document.getElementById("script-panel");
  if (!root || !panel || !root.dataset.agent) return;
  var T = JSON.parse(document.getElementById("scripts-i18n").textContent);
  var AGENT = root.dataset.agent;
  var linkedid = null, view = null;

  function $(id) { return document.getElementById(id); }
  function t(id, kw) {
    var text = T[id] || id;
    Object.keys(kw || {}).forEach(function (k) { text = text.split("{" + k + "}").join(kw[k]); });
    return text;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function say(text, bad) {
    var box = $("sp-status");
    box.textContent = text;
    box.className = "status " + (bad ? "bad" : "ok");
    box.hidden = !text;
  }
  function url(tail) {
    return "/api/v1/scripts/calls/" + encodeURIComponent(linkedid) + "/" + encodeURIComponent(AGENT) + (tail || "");
  }
  function api(method, path, body, version) {
    var opts = {method: method, credentials: "same-origin", headers: {"X-CSRF-Token": root.dataset.csrf}};
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    if (version) opts.headers["If-Match"] = '"' + version + '"';
    return fetch(path, opts).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) {
          var params = data.params || {}, id = "scripts.error." + data.error;
          var text = params.problem ? t("scripts.error.bad_answer", {problem: params.problem})
                                    : (T[id] ? t(id, params) : (data.message || String(res.status)));
          var err = new Error(text);
          err.code = data.error;
          throw err;
        }
        return data;
      });
    });
  }

  function shown(value) { return value === null || value === undefined || value === "" ? "\u2014" : String(value); }

  function input(step, value) {
    var box;
    if (step.field_type === "choice") {
      box = el("select");
      box.appendChild(el("option", null, "\u2014")).value = "";
      step.choices.forEach(function (c) { box.appendChild(el("option", null, c)).value = c; });
      box.value = value === null || value === undefined ? "" : String(value);
    } else {
      box = el("input");
      box.type = step.field_type === "date" ? "date" : "text";
      if (step.field_type === "number") box.inputMode = "decimal";
      box.maxLength = 1000;
      box.value = value === null || value === undefined ? "" : String(value);
    }
    box.id = "sp-answer";
    box.required = !!step.required;
    box.setAttribute("aria-label", step.field_label);
    return box;
  }

  function show(data) {
    view = data;
    panel.hidden = !data.script;
    if (!data.script) return;
    $("sp-label").textContent = data.script.label;
    var c = data.customer;
    $("sp-customer").textContent = c ? t("scripts.answers_to", {name: c.name}) : t("scripts.no_customer");
    var path = $("sp-path");
    path.textContent = "";
    (data.path || []).forEach(function (p) {
      var li = el("li");
      li.appendChild(el("span", "muted", p.text));
      if (p.field) {
        li.appendChild(el("br"));
        li.appendChild(el("strong", null, (p.field_label || p.field) + ": " + shown(p.answer)));
        li.appendChild(el("span", "muted", " " + t(p.saved ? "scripts.saved" : "scripts.not_saved")));
      }
      path.appendChild(li);
    });
    var step = (data.steps || []).filter(function (s) { return s.id === data.current; })[0];
    $("sp-step").hidden = !step;
    $("sp-done").hidden = !!step;
    if (!step) return;
    $("sp-text").textContent = step.text;
    var question = $("sp-question"), slot = $("sp-input");
    slot.textContent = "";
    question.hidden = !step.field;
    if (step.field) {
      $("sp-field").textContent = step.field_label || step.field;
      slot.appendChild(input(step, c && c.values ? c.values[step.field] : ""));
    }
    $("sp-next").textContent = t(step.field ? "scripts.save_next" : "scripts.next");
  }

  function load() {
    if (!linkedid) return;
    api("GET", url()).then(function (data) { say("", false); show(data); }).catch(function (err) {
      if (err.code === "scripts.no_call") { panel.hidden = true; return; }
      say(err.message, true);
    });
  }

  $("sp-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!view || !view.current) return;
    var body = {step: view.current}, answer = $("sp-answer");
    if (answer) body.answer = answer.value;
    var button = $("sp-next");
    button.disabled = true;
    api("POST", url("/answers"), body, view.customer ? view.customer.version : null).then(function (data) {
      say("", false);
      show(data);
    }).catch(function (err) {
      say(err.message, true);
      if (err.code === "customers.changed" || err.code === "scripts.out_of_step") load();  // read it again
    }).then(function () { button.disabled = false; });
  });

  document.addEventListener("cc:call", function (event) {
    var call = event.detail || {};
    if (!call.linkedid || call.linkedid === linkedid) return;
    linkedid = call.linkedid;
    view = null;
    panel.hidden = true;
    load();
  });
})();
