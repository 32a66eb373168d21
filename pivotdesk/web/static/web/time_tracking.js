/* Automatic time tracking on the ticket page (issue 18).
 *
 * Counts the seconds the agent actively spends on this ticket page — the tab is visible and there was a key, click,
 * scroll or pointer movement in the last two minutes — and reports the page's running total to the server every
 * minute and when the page is hidden or left (navigator.sendBeacon). The server merges the reports into one
 * automatic entry per agent, ticket and day; a report repeats the total, so a lost or repeated one is harmless.
 */
(function () {
  "use strict";
  var section = document.querySelector("[data-time-track]");
  if (!section) return;
  var url = section.getAttribute("data-time-track");
  var IDLE_MS = 120000;
  var REPORT_MS = 60000;
  var page = (window.crypto && window.crypto.randomUUID) ? window.crypto.randomUUID()
    : String(Date.now()) + "-" + String(Math.random()).slice(2);
  var activeMs = 0;
  var lastTick = Date.now();
  var lastActivity = Date.now();
  var lastSent = 0;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function tick() {
    var now = Date.now();
    var step = Math.min(now - lastTick, 5000); // a sleeping laptop or a throttled timer counts at most 5 s
    lastTick = now;
    if (document.visibilityState === "visible" && now - lastActivity < IDLE_MS) activeMs += step;
  }

  function form(seconds) {
    var data = new FormData();
    data.append("page", page);
    data.append("seconds", String(seconds));
    data.append("csrfmiddlewaretoken", csrfToken());
    return data;
  }

  function report(leaving) {
    tick();
    var seconds = Math.floor(activeMs / 1000);
    if (seconds <= lastSent) return;
    if (leaving && navigator.sendBeacon) {
      if (navigator.sendBeacon(url, form(seconds))) lastSent = seconds;
      return;
    }
    lastSent = seconds;
    fetch(url, { method: "POST", body: form(seconds), credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } })
      .then(function (response) {
        if (!response.ok) { lastSent = 0; return; }
        document.body.dispatchEvent(new CustomEvent("time-tracked"));
      })
      .catch(function () { lastSent = 0; }); // the next report carries the same total again
  }

  ["keydown", "mousedown", "mousemove", "wheel", "scroll", "touchstart", "input", "focusin"].forEach(function (name) {
    document.addEventListener(name, function () { lastActivity = Date.now(); }, { passive: true, capture: true });
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") report(true);
    else { lastTick = Date.now(); lastActivity = Date.now(); }
  });
  window.addEventListener("pagehide", function () { report(true); });
  setInterval(tick, 1000);
  setInterval(function () { report(false); }, REPORT_MS);
  window.pivotdeskTimeTracking = { report: report, activeSeconds: function () { tick(); return Math.floor(activeMs / 1000); } };
})();
