// Knowledge base beside the intake form: while the operator types the caller's request, the
// best articles appear; "引用此文直接办结" files the ticket and answers it from the article at
// once (直接办结, cited in the reply). Beside the form: the classifier's proposal for the
// ticket the form would file (the figure its page will show), a 受理并转办 per proposed unit
// (files and transfers), when the words point to one an emergency number with a one-click
// 即时转 (files and hands over), the 诉求类型 the words suggest beside its select, and the
// caller's open ticket the words may repeat with 受理并并入 (files and merges into it).
(function () {
  var form = document.getElementById("intake-form");
  var panel = document.getElementById("kb-panel");
  if (!form || !panel) return;
  var list = document.getElementById("kb-articles");
  var routing = document.getElementById("draft-routing");
  var limited = document.getElementById("draft-limited");
  var emergency = document.getElementById("emergency-hint");
  var handoverTo = document.getElementById("intake-handover-to");
  var chosen = document.getElementById("intake-answer-article");
  // While the words point to an emergency number, no article answers the request: a
  // misclick beside 即时转 must not close a fire report as a consultation.
  var kbEmergency = document.getElementById("kb-emergency");
  var urgent = false;
  // The answer's photos go with 引用此文直接办结 only: a step that does not answer sends none.
  var photos = document.getElementById("kb-answer-photos");

  function dropPhotos() {
    if (photos) photos.value = "";
  }

  function guardAnswers() {
    kbEmergency.hidden = !urgent;
    Array.prototype.forEach.call(list.querySelectorAll("button.kb-answer"), function (button) {
      button.disabled = urgent;
      button.title = urgent ? kbEmergency.textContent : "";
    });
  }
  var typeSelect = document.getElementById("intake-type");
  var typeHint = document.getElementById("type-hint");
  var typeHintText = document.getElementById("type-hint-text");
  var typeTake = document.getElementById("type-hint-take");
  // 诉求类型 as the page came (a refused or restored form's choice included) is the operator's
  // unless it is the default; once they pick one, the words only offer theirs beside it.
  var typeChosen = typeSelect && typeSelect.value !== typeSelect.dataset["default"];
  if (typeSelect) typeSelect.addEventListener("change", function () { typeChosen = true; showType(lastType); });
  var lastType = null;
  var transfers = document.getElementById("draft-transfer");
  var transferTo = document.getElementById("intake-transfer-to");
  var repeatsBox = document.getElementById("draft-repeats");
  var mergeInto = document.getElementById("intake-merge-into");
  var timer = null, retry = null, asked = "", drafted = "";

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value;
    return el;
  }

  function show(data) {
    list.innerHTML = "";
    data.articles.forEach(function (a) {
      var li = document.createElement("li");
      li.className = "kb-article";
      var title = text("a", a.title + "（第 " + a.version + " 版）");
      title.href = "/staff/kb/" + a.id;
      title.target = "_blank";
      li.appendChild(title);
      if (!a.public) li.appendChild(text("span", "内部", "tag"));
      var snippet = document.createElement("small");
      snippet.innerHTML = "<br>" + a.snippet_html;  // escaped by the server; only <mark> added
      li.appendChild(snippet);
      var button = text("button", "引用此文直接办结", "small primary kb-answer");
      button.type = "button";
      button.dataset.article = a.id;
      button.addEventListener("click", function () {
        if (urgent) return;
        chosen.value = a.id;
        if (transferTo) transferTo.value = "";
        if (form.reportValidity()) form.submit(); else chosen.value = "";
      });
      li.appendChild(document.createElement("br"));
      li.appendChild(button);
      list.appendChild(li);
    });
    if (!data.articles.length) list.appendChild(text("li", "没有找到相关知识", "muted"));
    guardAnswers();
    panel.hidden = false;
  }

  function showDraft(data) {
    routing.textContent = data.suggestions.length ? "分类建议（受理后工单页同此）：" + data.suggestions.map(function (s) {
      return (s.category ? s.category + " → " : "") + s.unit + " " + (s.percent || "规则") +
        (s.low ? "（" + data.low_label + "）" : "");
    }).join("；") + (data.sure ? "" : "。置信度低于 " + data.threshold + "，受理后需人工分派") : (data.reason || "");
    limited.hidden = true;
    showTransfers(data.suggestions, data.sure, data.low_label);
    showEmergency(data.emergency);
    showType(data.request_type);
    showRepeats(data.repeat_of || []);
  }

  // The caller's open tickets the words may repeat: 可能与 … 重复, the ticket linked, and one
  // click that files the request and merges it into that ticket. Only a proposal: 受理 files
  // a new ticket as always.
  function showRepeats(found) {
    if (!repeatsBox || !mergeInto) return;
    repeatsBox.innerHTML = "";
    found.forEach(function (r) {
      var line = text("p", "", "repeat-line");
      line.appendChild(text("b", r.words + "：", "repeat-words"));
      var link = text("a", r.number);
      link.href = "/tickets/" + r.number;
      link.target = "_blank";
      line.appendChild(link);
      line.appendChild(text("span", " " + r.title + " ", "repeat-title"));
      line.appendChild(text("span", r.state_label, "tag"));
      line.appendChild(document.createTextNode(" "));
      var button = text("button", r.merge, "small repeat-merge");
      button.type = "button";
      button.dataset.number = r.number;
      button.addEventListener("click", function () {
        mergeInto.value = r.number;
        handoverTo.value = "";
        chosen.value = "";
        if (transferTo) transferTo.value = "";
        if (form.reportValidity()) form.submit(); else mergeInto.value = "";
      });
      line.appendChild(button);
      repeatsBox.appendChild(line);
    });
    repeatsBox.hidden = found.length === 0;
  }

  // 受理并转办 per proposed unit: one click (or Enter on it) files the ticket and transfers it
  // there, as 受理 then the ticket page's 转办 of that suggestion. The first, when routing is
  // sure, is the primary button; a unit that cannot take it says why instead. Each unit below
  // the routing threshold is marked low-confidence, in sight and for a screen reader (its
  // button is described by the mark), as the ticket page marks its suggestions.
  function showTransfers(suggestions, sure, lowLabel) {
    if (!transfers || !transferTo) return;
    transfers.innerHTML = "";
    suggestions.forEach(function (s, i) {
      var line = text("p", "", "transfer-line");
      if (s.refused) {
        line.appendChild(text("span", s.unit + "：" + s.refused, "hint warn-text transfer-refused"));
      } else {
        var button = text("button", transfers.dataset.label + " " + s.unit,
                          "small transfer-proposed" + (sure && i === 0 ? " primary" : ""));
        button.type = "button";
        button.dataset.unit = s.unit_code;
        button.addEventListener("click", function () {
          transferTo.value = s.unit_code;
          if (mergeInto) mergeInto.value = "";
          handoverTo.value = "";
          chosen.value = "";
          dropPhotos();
          if (form.reportValidity()) form.submit(); else transferTo.value = "";
        });
        line.appendChild(button);
        line.appendChild(text("span", " " + (s.percent || "规则"), s.low || !sure ? "prob low" : "prob"));
        if (s.low) {
          var mark = text("span", lowLabel, "tag warn low-confidence");
          mark.id = "transfer-low-" + i;
          button.setAttribute("aria-describedby", mark.id);
          line.appendChild(document.createTextNode(" "));
          line.appendChild(mark);
        }
      }
      transfers.appendChild(line);
    });
    transfers.hidden = suggestions.length === 0;
  }

  // Past the account's limit of proposals: the last one stays, the page says why, and the
  // same words are asked again once the wait is over (typing meanwhile asks sooner).
  function showLimited(data) {
    limited.textContent = data.limited;
    limited.hidden = false;
    showEmergency(data.emergency);
    showType(data.request_type);
    drafted = "";
    clearTimeout(retry);
    retry = setTimeout(draft, (data.retry_after || 5) * 1000);
  }

  // The type the words suggest: an untouched select follows it (and says so); a chosen one
  // stays, and the suggestion is offered with one click when it differs.
  function showType(hint) {
    lastType = hint || null;
    if (!typeSelect || !typeHint) return;
    if (!typeChosen) typeSelect.value = hint ? hint.type : typeSelect.dataset["default"];
    var offered = hint && typeChosen && typeSelect.value !== hint.type;
    typeHintText.textContent = !hint ? "" : typeChosen ? (offered ? hint.offered : "") : hint.followed;
    typeTake.hidden = !offered;
    if (offered) {
      typeTake.textContent = hint.take;
      typeTake.dataset.type = hint.type;
    }
    typeHint.hidden = !typeHintText.textContent;
  }
  if (typeTake) {
    typeTake.addEventListener("click", function () {
      typeSelect.value = typeTake.dataset.type;
      typeChosen = true;
      typeSelect.dispatchEvent(new Event("change", {bubbles: true}));   // kept with the draft
    });
  }

  function showEmergency(hints) {
    emergency.innerHTML = "";
    hints.forEach(function (e) {
      var line = text("p", "疑似紧急情况（" + e.words.join("、") + "）：建议即时转 " + e.label + " ");
      line.className = "emergency-line";
      var button = text("button", "即时转 " + e.to, "small danger emergency-handover");
      button.type = "button";
      button.dataset.to = e.to;
      button.addEventListener("click", function () {
        handoverTo.value = e.to;
        chosen.value = "";
        dropPhotos();
        if (transferTo) transferTo.value = "";
        if (form.reportValidity()) form.submit(); else handoverTo.value = "";
      });
      line.appendChild(button);
      emergency.appendChild(line);
    });
    emergency.hidden = hints.length === 0;
    urgent = hints.length > 0;
    guardAnswers();
  }

  function draft() {
    var typed = [form.elements.title.value, form.elements.body.value, form.elements.location.value,
                 form.elements.phone.value].join("\n");
    if (typed === drafted) return;
    clearTimeout(retry);
    drafted = typed;
    if (!form.elements.body.value.trim() && !form.elements.title.value.trim()) {
      showDraft({suggestions: [], sure: false, reason: "", emergency: [], request_type: null, repeat_of: []});
      return;
    }
    var fields = new FormData();
    ["csrf_token", "title", "body", "location", "phone"].forEach(function (name) {
      fields.append(name, form.elements[name].value);
    });
    fetch("/operator/draft", {method: "POST", body: fields, credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || drafted !== typed) return;
        if (data.limited) showLimited(data); else showDraft(data);
      })
      .catch(function () { /* the console works without the proposal */ });
  }

  function ask() {
    var words = ((form.elements.title.value || "") + " " + (form.elements.body.value || "")).trim();
    if (words.length < 2 || words === asked) return;
    asked = words;
    fetch("/operator/kb?q=" + encodeURIComponent(words.slice(0, 200)), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && asked === words) show(data); })
      .catch(function () { /* the console works without suggestions */ });
  }

  // 受理 (its button, Ctrl+Enter) files only: a unit left chosen by a click whose filing the
  // browser stopped (a required field empty) does not go along, nor the answer's photos
  // (but with 不是紧急情况，仍直接办结, which answers).
  form.addEventListener("submit", function (e) {
    if (transferTo) transferTo.value = "";
    if (mergeInto) mergeInto.value = "";
    if (!(e.submitter && e.submitter.name === "answer_confirmed")) dropPhotos();
  });

  ["title", "body", "location"].forEach(function (name) {
    form.elements[name].addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { ask(); draft(); }, 300);
    });
  });
  // Another number (typed, or a screen-pop filling it in): its own open tickets are looked at.
  form.elements.phone.addEventListener("change", draft);
  ask();
  draft();
})();
