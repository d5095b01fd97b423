// The upgrade page: the chosen bundle is sent as the request's body (not a form: a 450 MB
// file is streamed to the data disk, never parsed) with the page's CSRF token; the answer's
// translated reason is shown, or the page is drawn again to show the writing.
(function () {
  "use strict";
  var form = document.getElementById("upgrade-form");
  if (!form) return;
  var message = document.getElementById("upgrade-message");
  var T = JSON.parse(document.getElementById("upgrade-i18n").textContent);
  function t(id, kw) {
    var text = T[id];
    Object.keys(kw || {}).forEach(function (k) { text = text.split("{" + k + "}").join(kw[k]); });
    return text;
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = document.getElementById("upgrade-file").files[0];
    if (!file) return;
    if (file.size > Number(form.getAttribute("data-limit"))) {
      message.textContent = form.getAttribute("data-too-big");
      return;
    }
    message.textContent = form.getAttribute("data-sending");
    document.getElementById("upgrade-send").disabled = true;
    fetch("/api/v1/upgrade", {method: "POST", body: file, credentials: "same-origin",
                              headers: {"Content-Type": "application/octet-stream", "Accept": "application/json",
                                        "X-CSRF-Token": form.getAttribute("data-csrf")}})
      .then(function (answer) {
        if (answer.ok) { window.location.reload(); return null; }
        return answer.json().catch(function () { return {}; }).then(function (body) {
          var id = "error.code." + body.error;
          message.textContent = T[id] ? t(id, body.params) : (body.message || String(answer.status));
          message.className = "alert";
          document.getElementById("upgrade-send").disabled = false;
        });
      })
      .catch(function (err) {
        message.textContent = String(err);
        document.getElementById("upgrade-send").disabled = false;
      });
  });
})();
