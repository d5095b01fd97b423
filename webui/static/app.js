// Every page: ask before destructive forms (<form data-confirm="...">), and the main menu's
// button on a narrow screen.  No inline handlers anywhere, so the Content-Security-Policy
// can forbid inline script.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // On a phone the menu is a list that this button opens and closes (CSS shows the button
  // only there); Escape closes it and gives the focus back to the button.
  var button = document.getElementById("menu-button"), nav = document.getElementById("main-nav");
  if (!button || !nav) return;
  function open(yes) {
    button.setAttribute("aria-expanded", yes ? "true" : "false");
    document.body.classList.toggle("menu-open", yes);
  }
  button.addEventListener("click", function () {
    var opening = button.getAttribute("aria-expanded") !== "true";
    open(opening);
    if (opening) {
      var first = nav.querySelector("a");
      if (first) first.focus();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      open(false);
      button.focus();
    }
  });
})();
