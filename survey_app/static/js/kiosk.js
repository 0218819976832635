/* A counter kiosk's pages with JavaScript (without it they still work, by meta refresh).

   - The waiting page asks for a code every few seconds, only while the tablet is online
     (an offline tablet would otherwise land on the browser's error page).
   - A form left alone for IDLE_SECONDS starts again for the next person.
   - When the centre's link is down as a citizen sends the answers, they go into a queue in
     localStorage (the agency's tablet keeps it across restarts), the form is cleared and
     thanks the citizen, and the queue is sent, oldest first, as soon as the tablet is online
     again, before it shows anything else. Each queued answer belongs to a single-use code:
     a second delivery is refused with "đã nhận" and stores nothing, so sending again after
     an unanswered request is safe, and each answer is stored exactly once. */
(function () {
  "use strict";
  var root = document.querySelector("[data-kiosk-home]");
  if (!root || !window.fetch || !window.localStorage) { return; }
  var home = root.getAttribute("data-kiosk-home");
  var KEY = "sipas-kiosk-queue";
  var LOOK_SECONDS = parseFloat(root.getAttribute("data-kiosk-look") || "3");
  var IDLE_SECONDS = 120;
  var flushing = null;

  function queued() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function store(items) {
    try {
      if (items.length) { localStorage.setItem(KEY, JSON.stringify(items)); } else { localStorage.removeItem(KEY); }
    } catch (e) { /* storage full or refused: the page still holds the last one */ }
  }

  function flush() {
    /* Send the queue, oldest first; resolves true once it is empty, false while offline. */
    if (flushing) { return flushing; }
    var items = queued();
    if (!items.length) { return Promise.resolve(true); }
    flushing = fetch(items[0].action, {
      method: "POST", body: items[0].body, credentials: "same-origin", redirect: "manual",
      headers: {"Content-Type": "application/x-www-form-urlencoded"}
    }).then(function () {  // any answer of the server: it has it (stored, or "đã nhận")
      var rest = queued();
      rest.shift();
      store(rest);
      flushing = null;
      return flush();
    }, function () {
      flushing = null;
      return false;
    });
    return flushing;
  }

  function goHomeWhenOnline() {
    if (!navigator.onLine) { return; }
    flush().then(function (empty) { if (empty) { window.location.replace(home); } });
  }

  window.sipasKiosk = {
    /* Called by keep-answers.js when sending the answers failed: queue them, clear the form. */
    queue: function (action, body) {
      var items = queued();
      items.push({action: action, body: body});
      store(items);
      var form = document.querySelector("form[data-kiosk-home]");
      var done = document.getElementById("kiosk-queued");
      if (form) { form.reset(); form.hidden = true; }
      ["offline-notice", "progress"].forEach(function (id) {
        var el = document.getElementById(id);
        if (el) { el.hidden = true; }
      });
      if (done) { done.hidden = false; done.focus(); }
      window.setInterval(goHomeWhenOnline, LOOK_SECONDS * 1000);
      return true;
    }
  };

  if (root.tagName === "FORM") {  // the questionnaire: start again when left alone
    var timer = null;
    var restart = function () {
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(function idle() {
        if (navigator.onLine) { goHomeWhenOnline(); } else { timer = window.setTimeout(idle, LOOK_SECONDS * 1000); }
      }, IDLE_SECONDS * 1000);
    };
    ["pointerdown", "keydown", "scroll", "input", "touchstart"].forEach(function (name) {
      window.addEventListener(name, restart, {passive: true});
    });
    restart();
    return;
  }

  // The waiting page and the thank-you page: send what is queued, then look for a code.
  var wait = parseFloat(root.getAttribute("data-kiosk-wait") || "0");
  window.setTimeout(function look() {
    if (!navigator.onLine) { window.setTimeout(look, LOOK_SECONDS * 1000); return; }
    flush().then(function (empty) {
      if (!empty) { return false; }
      if (wait) { window.location.replace(home); return true; }  // the thank-you page: back to waiting
      return fetch(home, {credentials: "same-origin"}).then(function (response) {
        if (response.redirected) { window.location.replace(response.url); return true; }  // a code came
        return false;
      });
    }).then(function (moved) {
      if (!moved) { window.setTimeout(look, LOOK_SECONDS * 1000); }
    }, function () {
      window.setTimeout(look, LOOK_SECONDS * 1000);
    });
  }, (wait || LOOK_SECONDS) * 1000);
})();
