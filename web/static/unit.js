// The unit inbox's notices: fetched again when the server says a unit was told something new.
(function () {
  "use strict";
  var box = document.getElementById("notices");
  if (!box || !box.dataset.live || !window.EventSource) return;
  var pending = false;
  function refresh() {
    if (pending) return;
    pending = true;
    fetch(box.dataset.panel, {cache: "no-store", credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () {})
      .then(function () { pending = false; });
  }
  var source = new EventSource(box.dataset.live);
  source.addEventListener("notices", refresh);
})();
