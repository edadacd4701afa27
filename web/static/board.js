// The public board refreshes its panel when the server says the figures changed (SSE).
// On a wall screen (/board?wall=1) its sections take turns: the trends, the unit ranking
// (a page of rows at a time, as many as fit), the recent cases; ?rotate=N sets the seconds.
(function () {
  var panel = document.getElementById("board-panel");
  if (!panel) return;
  var rotateSeconds = wallSeconds();
  var step = 0;

  function wallSeconds() {
    if (!panel.dataset.rotate) return 0;
    var asked = parseInt(new URLSearchParams(window.location.search).get("rotate"), 10);
    return asked >= 2 && asked <= 600 ? asked : parseInt(panel.dataset.rotate, 10);
  }

  // What takes turns now: [section, first row, last row] for each view.
  function views() {
    var list = [];
    panel.querySelectorAll(".turn").forEach(function (turn) {
      var rows = turn.querySelectorAll("tbody tr");
      if (!rows.length) { list.push([turn, 0, 0]); return; }
      rows.forEach(function (r) { r.hidden = false; });
      show(turn);
      var room = window.innerHeight - turn.getBoundingClientRect().top - 8;
      var tbody = turn.querySelector("tbody");
      var fixed = turn.getBoundingClientRect().height - tbody.getBoundingClientRect().height;
      var rowHeight = rows[0].getBoundingClientRect().height || 1;
      var per = Math.max(1, Math.floor((room - fixed) / rowHeight));
      for (var first = 0; first < rows.length; first += per) list.push([turn, first, Math.min(rows.length, first + per)]);
    });
    return list;
  }

  function show(turn) {
    panel.querySelectorAll(".turn").forEach(function (t) { t.classList.toggle("shown", t === turn); });
  }

  function showStep() {
    var list = views();
    if (!list.length) return;
    step = step % list.length;
    var view = list[step], turn = view[0];
    show(turn);
    var rows = turn.querySelectorAll("tbody tr");
    rows.forEach(function (r, i) { r.hidden = rows.length > 1 && (i < view[1] || i >= view[2]); });
    var pages = list.filter(function (v) { return v[0] === turn; }).length;
    var mark = turn.querySelector(".turn-page");
    if (pages > 1) {
      if (!mark) { mark = document.createElement("small"); mark.className = "turn-page"; turn.querySelector("h2").appendChild(mark); }
      var page = list.slice(0, step + 1).filter(function (v) { return v[0] === turn; }).length;
      mark.textContent = " 第 " + page + " / " + pages + " 页";
    } else if (mark) {
      mark.remove();
    }
  }

  if (rotateSeconds) {
    showStep();
    setInterval(function () { step += 1; showStep(); }, rotateSeconds * 1000);
    window.addEventListener("resize", showStep);
  }

  if (!window.EventSource) return;
  var generation = null, pending = false;
  function refresh() {
    if (pending) return;
    pending = true;
    panel.classList.add("refreshing");
    fetch("/board/panel" + window.location.search, {cache: "no-store"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        panel.innerHTML = html;
        panel.dataset.generation = generation;
        if (rotateSeconds) showStep();  // the new panel stays on the view it replaced
      })
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
