// A player on the row: "Play" becomes an <audio> element on the recording's MP3. The
// audio route answers HTTP Range requests, so the player seeks without loading it all.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.play[data-src]");
    if (!button) return;
    var playing = document.querySelectorAll("td.player audio");
    for (var i = 0; i < playing.length; i++) playing[i].pause();
    var audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "metadata";
    audio.src = button.getAttribute("data-src");
    button.replaceWith(audio);
    audio.play().catch(function () { /* the user presses play on the player instead */ });
  });
})();

// Beside a prompt's select: "Play" puts an <audio> element on the chosen prompt's audio
// after the button (a prompt only Asterisk can play says so instead).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.play-prompt[data-for]");
    if (!button) return;
    var select = document.getElementById(button.getAttribute("data-for"));
    var old = button.parentNode.querySelector("audio.prompt-audio, .prompt-unplayable");
    if (old) old.remove();
    if (!select || !select.value) return;
    var audio = document.createElement("audio");
    audio.className = "prompt-audio";
    audio.controls = true;
    audio.preload = "auto";
    audio.addEventListener("error", function () {
      var note = document.createElement("small");
      note.className = "hint prompt-unplayable";
      note.textContent = button.getAttribute("data-unplayable") || "";
      audio.replaceWith(note);
    });
    audio.src = "/api/v1/prompts/" + encodeURIComponent(select.value) + "/audio";
    button.after(audio);
    audio.play().catch(function () { /* the user presses play on the player instead */ });
  });
})();
