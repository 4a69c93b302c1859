// Idle-session warning. The status check is a GET that the server does not count as
// activity, so polling never keeps an unattended session alive.
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-session-status-url");
  if (!url || !window.fetch) { return; }
  var warnAt = parseInt(body.getAttribute("data-session-warning-seconds") || "60", 10);
  var box = document.getElementById("session-warning");
  var remaining = document.getElementById("session-remaining");
  function check() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (!data.authenticated) { window.location.href = data.login_url || "/"; return; }
        var left = data.idle_seconds_left;
        if (left <= warnAt) {
          box.hidden = false;
          remaining.textContent = "(" + left + ")";
        } else {
          box.hidden = true;
        }
        window.setTimeout(check, Math.max(1000, Math.min(15000, (left - warnAt) * 1000)));
      })
      .catch(function () { window.setTimeout(check, 15000); });
  }
  window.setTimeout(check, 5000);
})();
