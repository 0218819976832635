/* A counter kiosk's form starts again for the next person when left alone: after
   IDLE_SECONDS without a touch, a key or a scroll it goes back to the kiosk's waiting page
   (the code stays unanswered and simply expires). Without JavaScript a kiosk still works;
   the form then stays until someone finishes it. */
(function () {
  "use strict";
  var IDLE_SECONDS = 120;
  var form = document.querySelector("form[data-kiosk-home]");
  if (!form) { return; }
  var home = form.getAttribute("data-kiosk-home");
  var timer = null;
  function restart() {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(function () { window.location.replace(home); }, IDLE_SECONDS * 1000);
  }
  ["pointerdown", "keydown", "scroll", "input", "touchstart"].forEach(function (name) {
    window.addEventListener(name, restart, {passive: true});
  });
  restart();
})();
