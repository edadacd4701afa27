// 已回拨 closes a missed call without calling, with the same number's other missed calls:
// asked once here, so that a click on a row that moved under the pointer does not drop a
// caller; without script the server asks instead.
(function () {
  Array.prototype.forEach.call(document.querySelectorAll("form.callback-done"), function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm("确认 " + (form.dataset.caller || "该号码") + " 已回拨？确认后该号码的未接来电都将移出回拨列表。")) {
        e.preventDefault();
        return;
      }
      form.elements.confirmed.value = "yes";
    });
  });
})();

// 回拨 places the call in the background: the click returns at once, the row says 正在回拨…
// and asks how the call went until it is over (the outcome is stored: a reload asks again).
(function () {
  var POLL_MS = 1500;

  // Reached, the caller leaves the list with all their missed calls (the server closed them
  // together): every row of the number says so and offers neither 回拨 nor 已回拨, which would
  // only be refused now.
  function closeNumber(row, words) {
    var caller = row.querySelector("form.callback-done").dataset.caller;
    Array.prototype.forEach.call(document.querySelectorAll("tr.callback-row"), function (other) {
      var done = other.querySelector("form.callback-done");
      if (other !== row && done.dataset.caller !== caller) return;
      other.classList.add("done");
      Array.prototype.forEach.call(other.querySelectorAll("button, input[name=note]"), function (control) {
        control.disabled = true;
      });
      other.querySelector(".callback-status").textContent = words;
    });
  }

  function watch(form) {
    var button = form.querySelector("button[type=submit]");
    var status = form.querySelector(".callback-status");
    var row = form.closest("tr");
    function ask() {
      fetch(form.dataset.state, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (state) {
          if (!state) { setTimeout(ask, POLL_MS * 2); return; }
          show(state);
          if (state.dialing) setTimeout(ask, POLL_MS);
        })
        .catch(function () { setTimeout(ask, POLL_MS * 2); });
    }
    function show(state) {
      status.textContent = state.words;
      var attempts = row && row.querySelector(".callback-attempts");
      if (attempts) attempts.textContent = state.attempts;
      button.disabled = state.dialing || state.done;
      if (state.done && row) closeNumber(row, state.words);
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      button.disabled = true;
      fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                          headers: {Accept: "application/json"}})
        .then(function (r) { return r.json().then(function (data) { return {ok: r.ok, data: data}; }); })
        .then(function (answer) {
          if (!answer.ok) { status.textContent = answer.data.error || ""; button.disabled = false; return; }
          show(answer.data);
          setTimeout(ask, POLL_MS);
        })
        .catch(function () { button.disabled = false; });
    });
    if (form.dataset.dialing) setTimeout(ask, POLL_MS);
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.callback-call"), watch);
})();

// Ctrl+Enter (⌘+Enter on a Mac) anywhere in the form files it, as its button 受理 does
// (the browser's checks of required fields first). A plain Enter in a one-line field goes
// on to the next field instead of filing: operators type the place or the name last, and
// the browser's own Enter-submits would file a half-told request. After the last field, 受理.
(function () {
  var form = document.getElementById("intake-form");
  if (!form || !form.elements.body) return;
  form.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || e.isComposing) return;
    var target = e.target;
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (form.requestSubmit) form.requestSubmit(button); else button.click();
      return;
    }
    if (target.tagName !== "INPUT" || target.type === "submit" || target.type === "button") return;
    e.preventDefault();
    // (The answer's photos, beside the knowledge base's articles, are no field of the request.)
    var fields = Array.prototype.filter.call(form.elements, function (el) {
      return !el.disabled && el.type !== "hidden" && el.type !== "file" && el.tagName !== "BUTTON" && el.tagName !== "FIELDSET" &&
        el.getClientRects().length > 0;
    });
    var next = fields[fields.indexOf(target) + 1] || form.querySelector("button[type=submit]");
    next.focus();
  });
})();

// A request half typed survives a reload or a look at another page (the caller's earlier
// ticket, a search): kept in this tab's sessionStorage, per account, until it is filed.
// Restored only into an empty form, before the screen-pop below reads it, so that a call
// rendered with the page waits under 新来电 instead of taking the restored words.
(function () {
  var form = document.getElementById("intake-form");
  if (!form || !window.sessionStorage) return;
  var key = "hotline.intake-draft:" + (form.dataset.user || "");
  var notice = document.getElementById("draft-restored");
  var fields = ["type", "urgency", "phone", "name", "title", "body", "location", "linkedid"];
  var typed = ["body", "title", "name", "location"];
  var sent = false;
  var KEPT_MS = 2 * 60 * 60 * 1000;

  function hasText(values) {
    return typed.some(function (name) { return (values[name] || "").trim() !== ""; });
  }

  function read() {
    var values = {};
    fields.forEach(function (name) { if (form.elements[name]) values[name] = form.elements[name].value; });
    values.confidential = form.elements.confidential.checked;
    return values;
  }

  function keep() {
    if (sent) return;
    var values = read();
    values.saved_at = Date.now();
    try {
      if (hasText(values)) sessionStorage.setItem(key, JSON.stringify(values));
      else sessionStorage.removeItem(key);
    } catch (e) { /* private mode: nothing kept */ }
  }

  function forget() {
    try { sessionStorage.removeItem(key); } catch (e) { /* private mode */ }
  }

  var stored = null;
  try { stored = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { stored = null; }
  // Hours old, it belongs to an earlier shift's call (as a refused form, kept two hours).
  if (stored && !(Date.now() - (stored.saved_at || 0) < KEPT_MS)) { forget(); stored = null; }
  if (stored && hasText(stored) && !hasText(read())) {
    fields.forEach(function (name) {
      if (form.elements[name] && typeof stored[name] === "string") form.elements[name].value = stored[name];
    });
    form.elements.confidential.checked = !!stored.confidential;
    if (notice) notice.hidden = false;
  }
  if (notice) {
    notice.querySelector("button").addEventListener("click", function () {
      forget();
      typed.concat(["phone", "linkedid"]).forEach(function (name) { form.elements[name].value = ""; });
      form.elements.confidential.checked = false;
      notice.hidden = true;
      form.elements.body.focus();
    });
  }
  form.addEventListener("input", function () { sent = false; keep(); });
  form.addEventListener("change", function () { sent = false; keep(); });
  // Filed (受理, Ctrl+Enter, 引用此文直接办结, 即时转; form.submit() too): nothing to keep.
  // A refused form comes back from the server with the words filled in.
  form.addEventListener("formdata", function () { sent = true; forget(); });
  // The screen-pop fills the number and call id without an input event.
  window.addEventListener("pagehide", keep);
  // 退出 at the end of a shift with a request not filed: asked first, then nothing is kept.
  var logout = document.querySelector("form[action='/logout']");
  if (logout) {
    logout.addEventListener("submit", function (e) {
      if (hasText(read()) && !window.confirm(form.dataset.logoutQuestion)) { e.preventDefault(); return; }
      sent = true;
      forget();
    });
  }
})();

// Screen-pop: the call that reaches this operator's phone fills the console (SSE). A call
// never overwrites a form in progress: it waits under 新来电 until the operator switches to
// it; an untouched form takes it at once. Waiting calls survive going to a ticket and back
// (sessionStorage of this tab).
(function () {
  var box = document.getElementById("screen-pop");
  var form = document.getElementById("intake-form");
  if (!box || !form) return;
  var body = document.getElementById("pop-body");
  var queueBox = document.getElementById("pop-queue");
  var queueList = document.getElementById("pop-queue-list");
  var linkedid = document.getElementById("intake-linkedid");
  var phone = document.getElementById("intake-phone");
  var storeKey = "hotline.pop-queue:" + (box.dataset.agent || "");
  var labels = {received: "已受理", answered: "直接办结", transferred: "已转办", returned: "已退单",
                in_progress: "在办", resolved: "已办结", reopened: "重办", closed: "已关闭"};
  var MAX_WAITING = 5;
  // What the console itself put in the form: a number it filled is not the operator's typing.
  var filledPhone = phone.value;
  var waiting = load();
  // The call 当前来电 shows (null once it is over).
  var shown = null;
  var switchWarning = document.getElementById("switch-warning");
  if (switchWarning && form.elements.body) {
    form.elements.body.addEventListener("input", function () { switchWarning.hidden = true; });
  }

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value;
    return el;
  }

  // One of the caller's earlier tickets: its number linked, title and state (screen-pop and typed number alike).
  function earlierTicket(t) {
    var li = document.createElement("li");
    var a = text("a", t.number);
    a.href = "/tickets/" + encodeURIComponent(t.number);
    li.appendChild(a);
    li.appendChild(document.createTextNode(" " + t.title + " "));
    li.appendChild(text("span", t.state_label || labels[t.state] || t.state, "tag"));
    return li;
  }

  function load() {
    try { return JSON.parse(sessionStorage.getItem(storeKey) || "[]"); } catch (e) { return []; }
  }

  function save() {
    try { sessionStorage.setItem(storeKey, JSON.stringify(waiting)); } catch (e) { /* private mode */ }
  }

  function untouched() {
    var typed = ["body", "title", "name", "location"].some(function (name) {
      return form.elements[name] && form.elements[name].value.trim() !== "";
    });
    var number = phone.value.trim();
    return !typed && (number === "" || number === filledPhone);
  }

  function showPop(pop) {
    shown = pop.linkedid;
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
    if (pop.earlier_tickets && pop.earlier_tickets.length) {
      body.appendChild(text("h3", "历史工单"));
      var ul = document.createElement("ul");
      ul.className = "plain";
      ul.id = "pop-earlier";
      pop.earlier_tickets.forEach(function (t) { ul.appendChild(earlierTicket(t)); });
      body.appendChild(ul);
    } else {
      body.appendChild(text("p", "无历史工单", "muted"));
    }
  }

  // The form is now about this call: its number and call id.
  function take(pop) {
    showPop(pop);
    var flaggedHint = document.getElementById("intake-flagged");
    if (flaggedHint) flaggedHint.hidden = !pop.flagged;
    linkedid.value = pop.linkedid;
    phone.value = pop.caller_display || "";
    filledPhone = phone.value;
    historyAsked = phone.value;
    if (callerHistory) callerHistory.hidden = true;  // 当前来电 shows this number's tickets
    // The number's own open tickets the words typed may repeat (kb_console.js asks again).
    phone.dispatchEvent(new Event("change"));
    box.classList.add("live", "flash");
  }

  function showWaiting() {
    queueList.innerHTML = "";
    waiting.forEach(function (pop) {
      var li = document.createElement("li");
      li.className = "waiting-call";
      li.dataset.linkedid = pop.linkedid;
      li.appendChild(text("b", pop.caller_display || "未知", "waiting-caller"));
      if (pop.flagged) li.appendChild(text("span", "恶意来电标记", "tag warn"));
      var button = text("button", "切换到此来电", "small primary switch-call");
      button.type = "button";
      button.addEventListener("click", function () {
        // What was typed stays (nothing lost), but it was said by the caller before: say so
        // until the operator changes it, so that it is not filed under this caller unread.
        var kept = !untouched();
        waiting = waiting.filter(function (w) { return w.linkedid !== pop.linkedid; });
        save();
        take(pop);
        showWaiting();
        if (switchWarning) switchWarning.hidden = !kept;
      });
      li.appendChild(button);
      queueList.appendChild(li);
    });
    queueBox.hidden = waiting.length === 0;
    box.classList.toggle("has-waiting", waiting.length > 0);
  }

  function arrive(pop) {
    if (pop.linkedid === linkedid.value) { showPop(pop); return; }  // the same call again
    if (untouched()) { take(pop); return; }
    waiting = waiting.filter(function (w) { return w.linkedid !== pop.linkedid; });
    waiting.unshift(pop);
    waiting = waiting.slice(0, MAX_WAITING);
    save();
    showWaiting();
    box.classList.add("flash");
  }

  // A call is over: 当前来电 stops showing it and a waiting one leaves 新来电. Typed text
  // stays (the ticket may be filed after the call); an untouched form lets go of the number
  // and call id it was filled with, so nothing is filed under a call that ended.
  function end(endedId) {
    var before = waiting.length;
    waiting = waiting.filter(function (w) { return w.linkedid !== endedId; });
    if (waiting.length !== before) { save(); showWaiting(); }
    if (endedId !== shown) return;
    shown = null;
    body.innerHTML = "";
    var over = text("p", "通话已结束，等待来电…", "muted");
    over.id = "pop-ended";
    body.appendChild(over);
    box.classList.remove("live", "flash");
    if (untouched() && linkedid.value === endedId) {
      phone.value = "";
      filledPhone = "";
      linkedid.value = "";
      var flaggedHint = document.getElementById("intake-flagged");
      if (flaggedHint) flaggedHint.hidden = true;
    }
  }

  // A number typed by hand (no caller ID, or the caller gives another number): its earlier
  // tickets and flag under the field, as a screen-pop shows them for the line's number.
  var callerHistory = document.getElementById("intake-history");
  var historyList = document.getElementById("intake-history-list");
  var historyNone = document.getElementById("intake-history-none");
  var historyAsked = "";
  function lookUp(event, popCaller) {
    var number = phone.value.trim();
    if (number === historyAsked) return;
    historyAsked = number;
    var shownByPop = popCaller === undefined ? number === filledPhone : number === popCaller;
    if (!callerHistory || number === "" || shownByPop) { if (callerHistory) callerHistory.hidden = true; return; }
    fetch("/operator/caller?phone=" + encodeURIComponent(number), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || historyAsked !== number) return;
        if (!data.phone) { callerHistory.hidden = true; return; }
        historyList.innerHTML = "";
        data.earlier_tickets.forEach(function (t) { historyList.appendChild(earlierTicket(t)); });
        historyNone.hidden = data.earlier_tickets.length > 0;
        callerHistory.hidden = false;
        var flaggedHint = document.getElementById("intake-flagged");
        if (flaggedHint) flaggedHint.hidden = !data.flagged;
      })
      .catch(function () { /* the console works without it */ });
  }
  phone.addEventListener("change", lookUp);

  // The call the page was rendered with, when the form belongs to another call (a form
  // shown again after an error), waits like any other.
  var rendered = document.getElementById("pop-data");
  // A number restored or sent back with an error, not the line's: its history too.
  lookUp(null, rendered ? JSON.parse(rendered.textContent).caller_display || "" : "");
  if (rendered) {
    var pop = JSON.parse(rendered.textContent);
    shown = pop.linkedid;
    if (pop.linkedid !== linkedid.value && !untouched()) arrive(pop);
  }
  waiting = waiting.filter(function (w) { return w.linkedid !== linkedid.value; });
  save();
  showWaiting();

  if (!box.dataset.live || !window.EventSource) return;
  var source = new EventSource(box.dataset.live);
  source.addEventListener("pop", function (e) { arrive(JSON.parse(e.data)); });
  source.addEventListener("ended", function (e) { end(JSON.parse(e.data).linkedid); });
  // 示忙 / 示闲 as the PBX reports the phone, whoever asked (a supervisor, the phone itself).
  source.addEventListener("pause", function (e) {
    var state = document.getElementById("pause-state"), data = JSON.parse(e.data);
    if (!state) return;
    state.textContent = data.words;
    state.setAttribute("data-paused", data.paused ? "yes" : "no");
  });
})();
