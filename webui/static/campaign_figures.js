// The campaign page's figures, kept live: read again from the attempt records every few
// seconds while the page is open (GET /api/v1/campaigns/{id}/figures).
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
      })
      .catch(function () {})
      .then(function () { setTimeout(load, 5000); });
  }
  setTimeout(load, 5000);
})();
