// The unit inbox's notices and counts: fetched again when the server says a unit was told
// something new ("notices") or a ticket changed ("tickets"), and after the stream reconnects
// (what changed while it was down was not said).
(function () {
  "use strict";
  var box = document.getElementById("notices");
  var counts = document.getElementById("inbox-counts");
  if (!box || !box.dataset.live || !window.EventSource) return;
  // One fetch at a time per panel; news during it fetches once more after it.
  function refresher(target, url) {
    var pending = false, again = false;
    function refresh() {
      if (!target || !url) return;
      if (pending) { again = true; return; }
      pending = true;
      fetch(url, {cache: "no-store", credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { target.innerHTML = html; })
        .catch(function () {})
        .then(function () {
          pending = false;
          if (again) { again = false; refresh(); }
        });
    }
    return refresh;
  }
  var notices = refresher(box, box.dataset.panel);
  var figures = refresher(counts, counts && counts.dataset.counts);
  var connected = false;
  var source = new EventSource(box.dataset.live);
  source.addEventListener("notices", function () { notices(); figures(); });
  // Some ticket in the city changes many times a minute at busy hours, and every open inbox
  // hears of each: for those the counts are fetched at most once every few seconds (the first
  // at once, the last after the pause). A notice to this unit fetches them at once.
  var TICKETS_EVERY_MS = 5000, lastTickets = 0, waiting = null;
  function ticketsChanged() {
    if (waiting) return;
    var wait = lastTickets + TICKETS_EVERY_MS - Date.now();
    if (wait <= 0) { lastTickets = Date.now(); figures(); return; }
    waiting = setTimeout(function () { waiting = null; lastTickets = Date.now(); figures(); }, wait);
  }
  source.addEventListener("tickets", ticketsChanged);
  source.addEventListener("hello", function () {
    if (connected) { notices(); figures(); }
    connected = true;
  });
})();
