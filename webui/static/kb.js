// The workspace's knowledge panel: the articles suggested for the call's queue (the
// "cc:call" event workspace.js sends for each new call), a search, and an article opened
// in the panel itself: the agent never leaves the page during the call.  Text from the API
// goes in as text; an article's body is the server's rendering (everything typed escaped).
(function () {
  "use strict";
  var panel = document.getElementById("kb-panel");
  if (!panel) return;
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var CSRF = document.getElementById("ws").dataset.csrf;
  var queue = "";

  function t(id, kw) {
    var text = T[id] || id;
    Object.keys(kw || {}).forEach(function (k) { text = text.split("{" + k + "}").join(kw[k]); });
    return text;
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function parts(box, list) {  // matched parts highlighted, every part as text
    (list || []).forEach(function (p) { box.appendChild(p.mark ? el("mark", null, p.text) : document.createTextNode(p.text)); });
    return box;
  }
  var asking = null;  // the request for what the panel shows next: an older one still on its way is cancelled
  function get(url) {
    if (asking) asking.abort();  // else a slow answer (suggestions after Back) could replace a newer one (a search)
    asking = new AbortController();
    return fetch(url, {credentials: "same-origin", headers: {"X-CSRF-Token": CSRF}, signal: asking.signal}).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) throw new Error(T["error.code." + data.error] || data.message || String(res.status));
        return data;
      });
    });
  }
  function failed(err) {
    if (err.name === "AbortError") return;  // replaced by a newer request: nothing went wrong
    var box = $("kbp-status");
    box.textContent = t("kb.failed", {message: err.message});
    box.className = "status bad";
    box.hidden = false;
  }
  function showList(heading, items, empty) {
    $("kbp-status").hidden = true;
    $("kbp-view").hidden = true;
    $("kbp-list-box").hidden = false;
    $("kbp-heading").textContent = heading;
    var list = $("kbp-list");
    list.textContent = "";
    items.forEach(function (a) {
      var li = el("li"), link = el("a", "kb-title");
      link.href = "/kb/articles/" + a.id;
      link.dataset.id = a.id;
      if (a.title_parts) parts(link, a.title_parts); else link.textContent = a.title;
      li.appendChild(link);
      if (a.category) li.appendChild(el("span", "muted small", " " + a.category.path));
      if (a.snippet) li.appendChild(parts(el("p", "kb-snippet small"), a.snippet));
      list.appendChild(li);
    });
    if (!items.length) list.appendChild(el("li", "muted", empty));
  }
  function suggested() {
    if (!queue) { showList(t("kb.panel_suggested"), [], t("kb.panel_no_call")); return; }
    get("/api/v1/kb/articles?per_page=10&queue=" + encodeURIComponent(queue)).then(function (data) {
      showList(t("kb.panel_suggested"), data.items || [], t("kb.panel_none_suggested"));
    }).catch(failed);
  }
  function open(id) {
    get("/api/v1/kb/articles/" + encodeURIComponent(id)).then(function (a) {
      $("kbp-list-box").hidden = true;
      $("kbp-view").hidden = false;
      $("kbp-title").textContent = a.title;
      $("kbp-open").href = "/kb/articles/" + a.id;
      $("kbp-body").innerHTML = a.body_html;  // rendered by the server, everything typed escaped
      $("kbp-body").querySelectorAll("a[href]").forEach(function (link) {
        var other = /^\/kb\/articles\/(\d+)$/.exec(link.getAttribute("href"));
        if (other) { link.dataset.id = other[1]; return; }  // another article: in the panel too
        link.target = "_blank";  // anything else beside the workspace, never instead of it
        link.rel = "noopener noreferrer";
      });
      var files = $("kbp-files");
      files.textContent = "";
      (a.attachments || []).forEach(function (f) {
        var li = el("li"), link = el("a", null, f.filename);
        link.href = f.url;
        link.setAttribute("download", "");
        li.appendChild(link);
        files.appendChild(li);
      });
    }).catch(failed);
  }

  function openInPanel(event) {
    var link = event.target.closest("a[data-id]");
    if (!link) return;
    event.preventDefault();
    open(link.dataset.id);
  }
  $("kbp-list").addEventListener("click", openInPanel);
  $("kbp-body").addEventListener("click", openInPanel);
  $("kbp-back").addEventListener("click", function () {
    if ($("kbp-q").value.trim()) $("kbp-form").requestSubmit(); else suggested();
  });
  $("kbp-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var q = $("kbp-q").value.trim();
    if (!q) { suggested(); return; }
    get("/api/v1/kb/articles?per_page=10&q=" + encodeURIComponent(q)).then(function (data) {
      showList(t("kb.panel_results"), data.items || [], t("kb.none_found"));
    }).catch(failed);
  });
  var seen = null;  // the call the panel was last set for (the event comes with each of its states)
  document.addEventListener("cc:call", function (event) {
    var call = event.detail || {};
    if (call.linkedid === seen) return;
    seen = call.linkedid;
    var next = call.queue || "";
    if (next === queue && next) return;
    queue = next;
    $("kbp-q").value = "";
    suggested();
  });
})();
