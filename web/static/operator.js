// Screen-pop: the call that reaches this operator's phone fills the console (SSE).
(function () {
  var box = document.getElementById("screen-pop");
  if (!box || !box.dataset.live || !window.EventSource) return;
  var body = document.getElementById("pop-body");
  function text(tag, value, cls) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value;
    return el;
  }
  var labels = {received: "已受理", answered: "直接办结", transferred: "已转办", returned: "已退单",
                in_progress: "在办", resolved: "已办结", reopened: "重办", closed: "已关闭"};
  var source = new EventSource(box.dataset.live);
  source.addEventListener("pop", function (e) {
    var pop = JSON.parse(e.data);
    body.innerHTML = "";
    var caller = text("p", "来电号码 ", "caller");
    var b = text("b", pop.caller_display || "未知");
    b.id = "pop-caller";
    caller.appendChild(b);
    body.appendChild(caller);
    if (pop.flagged) {
      var warning = text("p", "注意：该号码已被标记为恶意来电 —— " + pop.flagged, "alert");
      warning.id = "pop-flagged";
      warning.setAttribute("role", "alert");
      body.appendChild(warning);
    }
    var flaggedHint = document.getElementById("intake-flagged");
    if (flaggedHint) flaggedHint.hidden = !pop.flagged;
    if (pop.earlier_tickets && pop.earlier_tickets.length) {
      body.appendChild(text("h3", "历史工单"));
      var ul = document.createElement("ul");
      ul.className = "plain";
      ul.id = "pop-earlier";
      pop.earlier_tickets.forEach(function (t) {
        var li = document.createElement("li");
        var a = text("a", t.number);
        a.href = "/tickets/" + encodeURIComponent(t.number);
        li.appendChild(a);
        li.appendChild(document.createTextNode(" " + t.title + " "));
        li.appendChild(text("span", t.state_label || labels[t.state] || t.state, "tag"));
        ul.appendChild(li);
      });
      body.appendChild(ul);
    } else {
      body.appendChild(text("p", "无历史工单", "muted"));
    }
    document.getElementById("intake-linkedid").value = pop.linkedid;
    var phone = document.getElementById("intake-phone");
    phone.value = pop.caller_display || "";
    box.classList.add("live", "flash");
  });
})();
