// The call wallboard: read the figures again when the bridge writes a call or agent change
// (server-sent events), and every 5 s anyway; count the longest wait up every second.
(function () {
  "use strict";
  var board = document.getElementById("wallboard");
  if (!board) { return; }
  var words = JSON.parse(board.getAttribute("data-alarm-words"));
  var states = ["ready", "ringing", "talking", "wrap_up", "paused"];
  var offset = 0;            // server clock minus this browser's, from the last figures
  var oldest = null;         // when the longest-waiting caller joined the queue
  var pending = false;

  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }
  function set(id, text) { var el = document.getElementById(id); if (el) { el.textContent = text; } }

  function waitSeconds() {
    if (!oldest) { return 0; }
    return Math.max(0, (Date.now() + offset - oldest) / 1000);
  }

  function alarms(list) {
    // Waits grow between refreshes: the 15 s alarm is raised here as soon as it is due.
    var shown = list.slice();
    if (waitSeconds() > 15 && shown.indexOf("long_wait") < 0) { shown.unshift("long_wait"); }
    var ul = document.getElementById("alarms");
    ul.innerHTML = "";
    shown.forEach(function (a) {
      var li = document.createElement("li");
      li.setAttribute("data-alarm", a);
      li.textContent = words[a] || a;
      ul.appendChild(li);
    });
    document.body.classList.toggle("alarm", shown.length > 0);
  }

  var last = null;
  function show(f) {
    last = f;
    offset = Date.parse(f.at) - Date.now();
    oldest = f.oldest_waiting_since ? Date.parse(f.oldest_waiting_since) : null;
    set("waiting", f.waiting);
    set("longest-wait", Math.round(waitSeconds()));
    states.forEach(function (s) { set("agents-" + s, f.agents[s]); });
    set("offered", f.today.offered);
    set("answered", f.today.answered);
    set("abandoned", f.today.abandoned);
    set("answer-rate-15s", pct(f.today.answer_rate_15s));
    set("service-level", pct(f.today.service_level));
    set("sl-seconds", f.today.service_level_seconds);
    set("answer-rate-24h", pct(f.last_24h.answer_rate));
    set("callbacks-pending", f.callbacks_pending);
    set("updated-at", chinaTime.format(new Date(Date.parse(f.at))));
    alarms(f.alarms);
    agents(f.agent_list);
  }

  // The agents' rows: state, 示忙 reason, paused time today. An agent logging in or out
  // changes the rows (and their forms): the page is read again.
  var list = document.getElementById("agent-list");
  function agents(rows) {
    if (!list) { return; }
    var stateWords = JSON.parse(list.getAttribute("data-state-words"));
    var reasonWords = JSON.parse(list.getAttribute("data-reason-words"));
    var shown = list.querySelectorAll("tbody tr");
    var same = shown.length === rows.length && rows.every(function (a, i) {
      return shown[i].getAttribute("data-interface") === a.interface;
    });
    if (!same) { window.location.reload(); return; }
    rows.forEach(function (a, i) {
      var cells = shown[i].children;
      cells[2].textContent = stateWords[a.state] || a.state;
      cells[3].textContent = a.paused_reason ? (reasonWords[a.paused_reason] || a.paused_reason) : "";
      cells[4].textContent = Math.floor(a.paused_seconds_today / 60) + " 分钟";
    });
  }

  // The site's times are China time, whatever zone the wall screen's browser is set to.
  var chinaTime = new Intl.DateTimeFormat("zh-CN", {timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit",
                                                     second: "2-digit", hourCycle: "h23"});

  function refresh() {
    if (pending) { return; }
    pending = true;
    fetch("/wallboard/figures", {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(show)
      .catch(function () { /* the next tick tries again */ })
      .then(function () { pending = false; });
  }

  var since = board.querySelector("#longest-wait").getAttribute("data-since");
  oldest = since ? Date.parse(since) : null;
  if (window.EventSource) {
    var source = new EventSource("/wallboard/events");
    source.addEventListener("calls", refresh);
    source.addEventListener("hello", refresh);
  }
  setInterval(refresh, 5000);
  setInterval(function () {
    set("longest-wait", Math.round(waitSeconds()));
    if (last) { alarms(last.alarms); }
  }, 1000);
})();
