// A supervisor's notices (/supervisor/notices): fetched again when the server says someone was
// told something, or a notice was read or settled elsewhere ("notices": a request decided in
// another tab shows 已处理 here), and after the stream reconnects; 标为已读 in place; the header's
// unread count follows the list. Without the script the forms post and the page reloads.
(function () {
  "use strict";
  var box = document.getElementById("notices");
  if (!box || !window.fetch) return;
  function put(html) {
    if (!/class="notices"/.test(html)) return false;   // not the list (the login page)
    box.innerHTML = html;
    var count = box.querySelector("#unread-count"), nav = document.getElementById("nav-unread");
    if (nav) {
      var unread = count ? count.dataset.unread : "";
      nav.textContent = unread;
      nav.hidden = !unread;
    }
    return true;
  }
  box.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[action='/supervisor/notices/read']")) return;
    event.preventDefault();
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"X-Notices-Panel": "1"}})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { if (!put(html)) return Promise.reject("not the notices"); box.focus({preventScroll: true}); })
      .catch(function () { form.submit(); });
  });
  if (!box.dataset.live || !window.EventSource) return;
  var pending = false, again = false;
  function refresh() {
    if (pending) { again = true; return; }
    pending = true;
    fetch(box.dataset.panel, {cache: "no-store", credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(put)
      .catch(function () {})
      .then(function () { pending = false; if (again) { again = false; refresh(); } });
  }
  var connected = false;
  var source = new EventSource(box.dataset.live);
  source.addEventListener("notices", refresh);
  source.addEventListener("hello", function () { if (connected) refresh(); connected = true; });
  // What changed while the tab was hidden and the stream did not say (a notice read on a page
  // served by another process): the count and list follow the server's, up or down.
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
})();
