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
  source.addEventListener("tickets", figures);
  source.addEventListener("hello", function () {
    if (connected) { notices(); figures(); }
    connected = true;
  });
})();
