// The header's unread-notice count (#nav-unread) on every page a supervisor or admin opens:
// fetched again (/supervisor/notices/unread) when the notices stream says they were told
// something or that notices of theirs were read or settled (已处理) elsewhere, and after the
// stream reconnects; it follows the server's count both ways. /supervisor/notices keeps it with its own list
// (staff_notices.js) on its own stream, so this one stays out of the way there.
(function () {
  "use strict";
  var link = document.getElementById("nav-notices"), nav = document.getElementById("nav-unread");
  if (!link || !nav || !link.dataset.live || !window.EventSource || !window.fetch) return;
  var list = document.getElementById("notices");
  if (list && list.dataset.live) return;
  var pending = false, again = false;
  function refresh() {
    if (pending) { again = true; return; }
    pending = true;
    fetch(link.dataset.count, {cache: "no-store", credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        if (typeof data.unread !== "string") return;
        nav.textContent = data.unread;
        nav.hidden = !data.unread;
      })
      .catch(function () {})
      .then(function () { pending = false; if (again) { again = false; refresh(); } });
  }
  var connected = false;
  var source = new EventSource(link.dataset.live);
  source.addEventListener("notices", refresh);
  source.addEventListener("hello", function () { if (connected) refresh(); connected = true; });
  // What changed while the tab was hidden and the stream did not say (a notice read on a page
  // served by another process): the count and list follow the server's, up or down.
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
})();
