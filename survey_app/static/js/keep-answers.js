/* The survey form without losing answers to a dropped network (progressive enhancement:
   without JavaScript the form posts as usual).

   What a submission sends is first kept in this tab's sessionStorage (not localStorage:
   nothing outlives the tab), so it survives a failed request and a reload. The final
   submission is sent with fetch: when the server stored it (a redirect to the thanks page)
   the browser goes there; when the network fails, the page stays as it is, says so, and
   sends again when the browser is back online (and every 15 s, and on "Gửi lại"); any other
   answer (an error summary, "đã nhận") is posted again as an ordinary form, so the browser
   shows the server's page. A code takes one answer and a second delivery of a stored
   submission is refused with "đã nhận" (409), storing nothing: sending again is always safe.
   A step (next, back) goes as an ordinary form unless the browser knows it is offline; then
   it waits the same way. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-keep]");
  if (!form || !window.fetch || !window.sessionStorage || !window.URLSearchParams || !window.FormData) { return; }
  var action = form.getAttribute("action");
  var key = "sipas-pending:" + action;
  var notice = document.getElementById("offline-notice");
  var again = document.getElementById("send-again");
  var timer = null;
  var sending = false;

  function kept() {
    try { return sessionStorage.getItem(key); } catch (e) { return null; }
  }
  function keep(body) {
    try { sessionStorage.setItem(key, body); } catch (e) { /* storage refused: the page still holds them */ }
  }
  function drop() {
    try { sessionStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  }

  function postAsForm(body) {
    /* The kept submission as an ordinary POST: the browser navigates to the server's page. */
    var plain = document.createElement("form");
    plain.method = "post";
    plain.action = action;
    plain.hidden = true;
    new URLSearchParams(body).forEach(function (value, name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      plain.appendChild(input);
    });
    document.body.appendChild(plain);
    drop();
    HTMLFormElement.prototype.submit.call(plain);
  }

  function waiting() {
    if (notice) { notice.hidden = false; }
    if (!timer) { timer = window.setInterval(send, 15000); }
  }

  function send() {
    var body = kept();
    if (!body || sending) { return; }
    if (new URLSearchParams(body).get("go") !== "submit") {  // a step waited for the network
      if (navigator.onLine) { postAsForm(body); }
      return;
    }
    sending = true;
    fetch(action, {
      method: "POST", body: body, credentials: "same-origin", redirect: "follow",
      headers: {"Content-Type": "application/x-www-form-urlencoded"}
    }).then(function (response) {
      sending = false;
      if (response.redirected) {  // stored: the thanks page
        drop();
        window.location.replace(response.url);
      } else {
        postAsForm(body);  // the server's own page for what it said (nothing was stored)
      }
    }, function () {
      sending = false;
      if (window.sipasKiosk && window.sipasKiosk.queue(action, body)) {  // a kiosk: queued, next person
        drop();
        return;
      }
      waiting();
    });
  }

  form.addEventListener("submit", function (event) {
    var data = new FormData(form);
    var button = event.submitter;
    if (button && button.name) { data.append(button.name, button.value); }
    var body = new URLSearchParams(data).toString();
    var final = data.get("go") === "submit" || !data.get("go");
    if (!final && navigator.onLine) { return; }  // a step, online: the ordinary form post
    event.preventDefault();
    keep(body);
    if (final) { send(); } else { waiting(); }
  });
  window.addEventListener("online", send);
  if (again) { again.addEventListener("click", send); }
  if (kept()) {  // a reload after a failed send: send what was kept
    waiting();
    send();
  }
})();
