/* Live updates (pivotdesk/web/live: server-sent events). The server tells this page which ticket changed (its number
   and what happened); the page then refreshes what it shows through the usual views: the queue's rows, or — on that
   ticket's page — the pulse, whose answer names the parts that changed. The slow polls stay as a backstop. */
(function () {
  "use strict";
  var url = document.body && document.body.dataset.liveUrl;
  if (!url || !window.EventSource) return;
  var source = new EventSource(url);
  var queueTimer = null;
  var missedWhileHidden = false;

  function refreshQueue() {
    var rows = document.getElementById("queue-rows");
    if (!rows || !window.htmx) return;
    if (document.visibilityState !== "visible") { missedWhileHidden = true; return; }
    clearTimeout(queueTimer);
    // Several changes in one burst (a bulk update, a trigger cycle) refresh the rows once.
    queueTimer = setTimeout(function () { htmx.trigger(rows, "live-refresh"); }, 80);
  }

  source.addEventListener("ticket", function (evt) {
    var data;
    try { data = JSON.parse(evt.data); } catch (e) { return; }
    // What arrived last, for people and tests looking at the page: the push, not a backstop poll, brought it.
    document.documentElement.dataset.liveLast = String(data.number);
    document.body.dispatchEvent(new CustomEvent("live-ticket", { detail: data }));
    refreshQueue();
    document.body.dispatchEvent(new CustomEvent("live-counts"));  // the queue's view counts (throttled there)
    var pulse = document.querySelector("[data-live-ticket]");
    if (pulse && window.htmx && String(data.number) === pulse.dataset.liveTicket) htmx.trigger(pulse, "live-pulse");
  });
  source.addEventListener("open", function () { document.documentElement.dataset.live = "on"; });
  source.addEventListener("error", function () { document.documentElement.dataset.live = "reconnecting"; });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && missedWhileHidden) { missedWhileHidden = false; refreshQueue(); }
  });
  window.addEventListener("pagehide", function () { source.close(); });
})();
