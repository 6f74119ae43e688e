/* Kiosk: an answer given while the tablet is offline is kept in localStorage and sent
   when the connection returns. Each queued answer uses one of the spare signed form
   tokens of the page, and the server stores each token once, so a replay adds no row. */
(function () {
  "use strict";
  var KEY = "hailong.kiosk.queue";
  var box = document.getElementById("kiosk-queue");
  var form = document.querySelector("form[method=post]");
  if (!box || !form || !window.localStorage || !window.fetch) { return; }
  var spare = (box.getAttribute("data-tokens") || "").split(" ").filter(Boolean);
  var status = document.getElementById("kiosk-queue-status");

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(queue) { localStorage.setItem(KEY, JSON.stringify(queue)); }
  function say(text) { if (status) { status.textContent = text; } }

  function flush() {
    var queue = load();
    if (!queue.length || !navigator.onLine) { return; }
    var item = queue[0];
    fetch(item.action, {method: "POST", body: new URLSearchParams(item.body), credentials: "same-origin",
                        redirect: "manual",
                        headers: {"Content-Type": "application/x-www-form-urlencoded"}})
      .then(function (response) {
        if (response.status >= 500) { return; }  /* try again later */
        save(load().filter(function (other) { return other.token !== item.token; }));
        flush();
      })
      .catch(function () { /* still offline: kept */ });
  }

  form.addEventListener("submit", function (event) {
    if (navigator.onLine) { return; }
    event.preventDefault();
    /* a language button offline: the page cannot be fetched in the other language; keep the answers */
    if (event.submitter && event.submitter.name === "_lang") { return; }
    var data = new URLSearchParams(new FormData(form));
    var token = spare.shift() || data.get("form_token");
    data.set("form_token", token);
    var queue = load();
    if (!queue.some(function (other) { return other.token === token; })) {
      queue.push({token: token, action: form.getAttribute("action"), body: data.toString()});
      save(queue);
    }
    form.reset();
    say(box.getAttribute("data-saved"));
    window.scrollTo(0, 0);
  });
  /* Idle reset: after data-idle seconds without a touch, back to an empty survey (offline,
     the form is emptied in place: a reload would show the browser's error page). */
  var idle = parseInt(box.getAttribute("data-idle"), 10) * 1000;
  var timer = null;
  function restart() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () {
      if (navigator.onLine) { window.location.assign(box.getAttribute("data-reset")); }
      else { form.reset(); say(""); restart(); }
    }, idle);
  }
  if (idle > 0) {
    ["pointerdown", "keydown", "input"].forEach(function (name) { document.addEventListener(name, restart); });
    restart();
  }
  window.addEventListener("online", flush);
  flush();
}());
