// Click-to-dial on the customer pages: a button next to every phone number asks the
// engine to ring the user's own phone, then the number (POST /api/v1/agents/<n>/dial).
(function () {
  "use strict";
  var config = document.getElementById("dial-config");
  var status = document.getElementById("dial-status");
  if (!config || !status) return;
  function say(text, bad) {
    status.textContent = text;
    status.className = "status " + (bad ? "bad" : "ok");
    status.hidden = false;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-dial]");
    if (!button || !config.dataset.agent) return;
    var number = button.getAttribute("data-dial");
    button.disabled = true;
    fetch("/api/v1/agents/" + encodeURIComponent(config.dataset.agent) + "/dial", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": config.dataset.csrf},
      body: JSON.stringify({number: number})
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (res.ok) say(config.dataset.calling.split("{number}").join(number), false);
        else say(config.dataset.failed + " " + (body.message || res.status), true);
      });
    }).catch(function () {
      say(config.dataset.failed, true);
    }).then(function () {
      button.disabled = false;
    });
  });
})();
