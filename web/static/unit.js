// The unit inbox's notices, counts and table: fetched again when the server says a unit was
// told something new ("notices") or a ticket changed ("tickets"), and after the stream
// reconnects (what changed while it was down was not said).
(function () {
  "use strict";
  var box = document.getElementById("notices");
  var counts = document.getElementById("inbox-counts");
  var list = document.getElementById("inbox-list");
  if (!box) return;
  // 标为已读 in place: the form posted by fetch, the notices put back where they were, the
  // page neither reloaded nor scrolled; the keyboard focus goes to the next unread notice's
  // button (or the panel). Without the script the form posts and the inbox reloads.
  var afterRead = function () {};
  box.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[action='/unit/notices/read']") || !window.fetch) return;
    event.preventDefault();
    var item = form.closest("li"), next = null;
    if (item) {
      for (var li = item.nextElementSibling; li && !next; li = li.nextElementSibling) {
        var button = li.querySelector("form[action='/unit/notices/read'] input[name=notice]");
        if (button) next = button.value;
      }
    }
    var x = window.scrollX, y = window.scrollY;
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"X-Notices-Panel": "1"}})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (!/id="unread-count"|class="notices"/.test(html)) return Promise.reject("not the notices");
        box.innerHTML = html;
        window.scrollTo(x, y);
        var target = next && box.querySelector("input[name=notice][value='" + next + "']");
        var button = target && target.form.querySelector("button");
        (button || box).focus({preventScroll: true});
        afterRead();
      })
      .catch(function () { form.submit(); });   // the session ended, a network fault: as without the script
  });
  if (!box.dataset.live || !window.EventSource) return;
  function replaceAll(target, html) { target.innerHTML = html; }
  // One fetch at a time per panel; news during it fetches once more after it.
  function refresher(target, url, put) {
    var pending = false, again = false;
    function refresh() {
      if (!target || !url) return;
      if (pending) { again = true; return; }
      pending = true;
      fetch(url, {cache: "no-store", credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { (put || replaceAll)(target, html); })
        .catch(function () {})
        .then(function () {
          pending = false;
          if (again) { again = false; refresh(); }
        });
    }
    return refresh;
  }
  // The table's rows and pager only, and only when they differ: the rest of the page (the
  // search box, a horizontally scrolled table) stays as the user left it, and a row's link
  // that had the keyboard focus gets it back.
  function putRows(target, html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var body = target.querySelector("#inbox tbody"), freshBody = fresh.querySelector("#inbox tbody");
    if (!body || !freshBody) return;   // not the rows (the login page, when the session ended)
    if (body.innerHTML !== freshBody.innerHTML) {
      var focused = document.activeElement;
      var href = focused && focused !== body && body.contains(focused) ? focused.getAttribute("href") : null;
      body.innerHTML = freshBody.innerHTML;
      if (href) {
        var link = Array.prototype.find.call(body.querySelectorAll("a[href]"),
                                             function (a) { return a.getAttribute("href") === href; });
        if (link) link.focus();
      }
    }
    var pager = target.querySelector("#inbox-pager"), freshPager = fresh.querySelector("#inbox-pager");
    if (freshPager && !pager) target.appendChild(document.importNode(freshPager, true));
    else if (pager && !freshPager) pager.remove();
    else if (pager && pager.outerHTML !== freshPager.outerHTML) pager.replaceWith(document.importNode(freshPager, true));
  }
  var notices = refresher(box, box.dataset.panel);
  var figures = refresher(counts, counts && counts.dataset.counts);
  var rows = refresher(list, list && list.dataset.rows, putRows);
  function inbox() { figures(); rows(); }
  afterRead = inbox;   // the counts and the rows' news tags follow what was read
  var connected = false;
  var source = new EventSource(box.dataset.live);
  source.addEventListener("notices", function () { notices(); inbox(); });
  // Some ticket in the city changes many times a minute at busy hours, and every open inbox
  // hears of each: for those the counts and rows are fetched at most once every few seconds
  // (the first at once, the last after the pause). A notice to this unit fetches them at once.
  var TICKETS_EVERY_MS = 5000, lastTickets = 0, waiting = null;
  function ticketsChanged() {
    if (waiting) return;
    var wait = lastTickets + TICKETS_EVERY_MS - Date.now();
    if (wait <= 0) { lastTickets = Date.now(); inbox(); return; }
    waiting = setTimeout(function () { waiting = null; lastTickets = Date.now(); inbox(); }, wait);
  }
  source.addEventListener("tickets", ticketsChanged);
  source.addEventListener("hello", function () {
    if (connected) { notices(); inbox(); }
    connected = true;
  });
})();
