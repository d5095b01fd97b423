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
