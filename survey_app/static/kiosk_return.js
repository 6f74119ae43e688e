/* The kiosk's thank-you page goes back to an empty survey after data-seconds (kiosk_thanks.html). */
(function () {
  var back = document.getElementById("kiosk-return");
  if (back) { setTimeout(function () { window.location.assign(back.href); }, parseInt(back.dataset.seconds, 10) * 1000); }
}());
