// The staff ticket page (ticket.html).
(function () {
  "use strict";
  var page = document.getElementById("ticket-live");
  if (!page) return;
  var KEY = "ticket-typed:" + page.dataset.number;

  // 打印工单: the browser's print, which the page's print style cuts to the ticket and its record.
  var print = document.getElementById("print-ticket");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }

  // A photo whose thumbnail cannot be drawn (stored before thumbnails were, damaged since: the
  // server answers 404): its name stands in the list instead of a broken image, still the link
  // to the file. An image that failed before this script ran is caught by its state.
  Array.prototype.forEach.call(document.querySelectorAll("#photo-list img"), function (img) {
    function broken() {
      var name = document.createElement("span");
      name.className = "photo-broken";
      name.textContent = (img.alt || "图片") + "（无法显示缩略图）";
      img.replaceWith(name);
    }
    if (img.complete && img.naturalWidth === 0 && img.currentSrc) broken();
    else img.addEventListener("error", broken);
  });

  // 办结, 退单, 改派申请 and 删除图片 cannot be taken back: asked once here (the form's data-confirm).
  // 取消 leaves the form as it was, the typed words in it.
  Array.prototype.forEach.call(page.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });

  // 常用语: a template picked above a reply box goes into the box where the cursor was (at
  // its end before the box was touched), the box then ready to go on typing. Without this
  // script the picker's 插入 asks for the page with the box filled.
  Array.prototype.forEach.call(page.querySelectorAll("form.template-picker"), function (picker) {
    var select = picker.elements.template, area = document.getElementById(picker.dataset.box);
    if (!select || !area) return;
    var button = picker.querySelector("button");
    if (button) button.hidden = true;
    area.addEventListener("focus", function () { area.dataset.caret = "1"; });
    function insert() {
      var option = select.options[select.selectedIndex];
      if (!option || !option.value) return;
      var text = option.dataset.text || "", value = area.value;
      var start = area.dataset.caret ? area.selectionStart : value.length;
      var end = area.dataset.caret ? area.selectionEnd : value.length;
      if (!area.dataset.caret && value && !/\s$/.test(value)) text = "\n" + text;
      area.value = value.slice(0, start) + text + value.slice(end);
      area.focus();
      area.selectionStart = area.selectionEnd = start + text.length;
      area.dispatchEvent(new Event("input", {bubbles: true}));
      select.selectedIndex = 0;
    }
    select.addEventListener("change", insert);
    picker.addEventListener("submit", function (e) { e.preventDefault(); insert(); });
  });

  function typedFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && el.name !== "expected_version" &&
        (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && /^(text|number|search|)$/.test(el.type))) &&
        el.value !== el.defaultValue;
    });
  }

  // Words typed before the refresh go back into the same form when the page still has it
  // (into an empty field only), else into a box to copy them from. Kept for this tab only,
  // and forgotten as soon as they are put back.
  (function restore() {
    var saved;
    try { saved = JSON.parse(sessionStorage.getItem(KEY) || "null"); sessionStorage.removeItem(KEY); } catch (e) { return; }
    if (!saved) return;
    var lost = [];
    saved.forEach(function (item) {
      var form = Array.prototype.find.call(page.querySelectorAll("form"), function (f) {
        return new URL(f.action, location.href).pathname === item.action;
      });
      var field = form && form.elements[item.name];
      if (field && !field.length && field.value === field.defaultValue) field.value = item.value;
      else lost.push(item.value);
    });
    if (!lost.length) return;
    var box = document.createElement("div"), label = document.createElement("label"), area = document.createElement("textarea");
    box.className = "notice"; box.id = "typed-lost"; box.setAttribute("role", "status");
    label.textContent = page.dataset.lostLabel;
    area.readOnly = true; area.rows = 3; area.value = lost.join("\n\n");
    label.appendChild(area); box.appendChild(label);
    page.parentNode.insertBefore(box, page);
  })();

  // Someone else changed the ticket while the page is open (a 督办, a decision, a reply): a
  // banner says so. The ticket's stream says when it may have changed; the page then asks
  // whether its last event moved (at most once every 2 s).
  var banner = document.getElementById("ticket-changed");
  if (!banner || !window.EventSource || !window.fetch) return;
  banner.querySelector("a").addEventListener("click", function (e) {
    var typed = [];
    Array.prototype.forEach.call(page.querySelectorAll("form"), function (form) {
      typedFields(form).forEach(function (el) {
        typed.push({action: new URL(form.action, location.href).pathname, name: el.name, value: el.value});
      });
    });
    try { if (typed.length) sessionStorage.setItem(KEY, JSON.stringify(typed)); } catch (err) { return; }
    e.preventDefault();
    location.replace(location.pathname);
  });
  var EVERY_MS = 2000, last = 0, waiting = null, pending = false;
  function check() {
    if (pending || !banner.hidden) return;
    pending = true;
    fetch("/tickets/" + encodeURIComponent(page.dataset.number) + "/stamp", {cache: "no-store", credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (body) { if (String(body.stamp) !== page.dataset.stamp) banner.hidden = false; })
      .catch(function () {})
      .then(function () { pending = false; });
  }
  function changed() {
    if (waiting) return;
    var wait = last + EVERY_MS - Date.now();
    if (wait <= 0) { last = Date.now(); check(); return; }
    waiting = setTimeout(function () { waiting = null; last = Date.now(); check(); }, wait);
  }
  var source = new EventSource("/tickets/" + encodeURIComponent(page.dataset.number) + "/events");
  source.addEventListener("changed", changed);
  // On every (re)connection: what changed while the stream was down was not said.
  source.addEventListener("hello", changed);
})();
