// Every page: ask before destructive forms (<form data-confirm="...">).  No inline
// handlers anywhere, so the Content-Security-Policy can forbid inline script.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
