// The public board refreshes its panel when the server says the figures changed (SSE).
(function () {
  var panel = document.getElementById("board-panel");
  if (!panel || !window.EventSource) return;
  var generation = null, pending = false;
  function refresh() {
    if (pending) return;
    pending = true;
    panel.classList.add("refreshing");
    fetch("/board/panel" + window.location.search, {cache: "no-store"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { panel.innerHTML = html; panel.dataset.generation = generation; })
      .catch(function () {})
      .then(function () { pending = false; panel.classList.remove("refreshing"); });
  }
  var source = new EventSource(panel.dataset.live);
  source.addEventListener("hello", function (e) {
    var g = JSON.parse(e.data).generation;
    if (generation !== null && g !== generation) refresh();  // missed a change while reconnecting
    generation = g;
  });
  source.addEventListener("board", function (e) {
    generation = JSON.parse(e.data).generation;
    refresh();
  });
  // Overdue counts move with the clock even when nothing changes.
  setInterval(refresh, 60000);
})();
