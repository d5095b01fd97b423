// The campaign page's figures, kept live: read again from the attempt records every few
// seconds while the page is open (GET /api/v1/campaigns/{id}/figures); for a campaign the
// appliance dials, its dialling state and live figures too (the state's words in the page).
(function () {
  "use strict";
  var box = document.getElementById("figures");
  if (!box || !box.dataset.campaign) return;
  function load() {
    fetch("/api/v1/campaigns/" + box.dataset.campaign + "/figures", {credentials: "same-origin"})
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (figures) {
        if (!figures) return;
        box.querySelectorAll("[data-figure]").forEach(function (tile) {
          var value = figures[tile.dataset.figure];
          if (value !== undefined) tile.querySelector(".figure").textContent = value;
        });
        var dialer = figures.dialer, state = document.getElementById("dialer-state");
        if (!dialer) return;
        box.querySelectorAll("[data-dialer]").forEach(function (tile) {
          var value = dialer[tile.dataset.dialer];
          if (value !== undefined) tile.querySelector(".figure").textContent = value;
        });
        if (state) {
          var words = JSON.parse(document.getElementById("dialer-status").dataset.words);
          state.textContent = words[dialer.status] || dialer.status;
          state.className = "flag " + (dialer.status === "dialling" ? "yes" : "no");
        }
      })
      .catch(function () {})
      .then(function () { setTimeout(load, 5000); });
  }
  setTimeout(load, 5000);
})();
