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
   A poster takes many answers, so the final submission carries a one-time value ("nonce"),
   the same in every delivery of it: the server stores the first and refuses the others with
   "đã nhận". A step (next, back) goes as an ordinary form unless the browser knows it is
   offline; then it waits the same way. */
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

  function nonce() {
    /* 16 random bytes as base64url (22 characters); none without a secure random source. */
    if (!window.crypto || !window.crypto.getRandomValues) { return null; }
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    var text = "";
    for (var i = 0; i < bytes.length; i++) { text += String.fromCharCode(bytes[i]); }
    return window.btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
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
    var final = data.get("go") === "submit" || !data.get("go");
    if (!final && navigator.onLine) { return; }  // a step, online: the ordinary form post
    var once = final ? nonce() : null;
    if (once) { data.append("nonce", once); }
    var body = new URLSearchParams(data).toString();
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
