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

// A voice menu's target select (data-action-from="<id of the action select>") offers only
// what the chosen action leads to: the option group of that action, or nothing.
(function () {
  "use strict";
  function follow(target) {
    var action = document.getElementById(target.getAttribute("data-action-from"));
    if (!action) return;
    var groups = target.querySelectorAll("optgroup");
    for (var i = 0; i < groups.length; i++) {
      var on = groups[i].getAttribute("data-action") === action.value;
      groups[i].hidden = !on;
      groups[i].disabled = !on;
    }
    var chosen = target.options[target.selectedIndex];
    if (chosen && chosen.parentNode.disabled) target.value = "";
  }
  function all() {
    var targets = document.querySelectorAll("select[data-action-from]");
    for (var i = 0; i < targets.length; i++) follow(targets[i]);
  }
  document.addEventListener("change", function (event) {
    if (event.target.tagName === "SELECT" && event.target.id) all();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
})();
