// Knowledge base beside the intake form: while the operator types the caller's request, the
// best articles (and the classifier's suggestions for the same words) appear; "引用此文直接办结"
// files the ticket and answers it from the article at once (直接办结, cited in the reply).
(function () {
  var form = document.getElementById("intake-form");
  var panel = document.getElementById("kb-panel");
  if (!form || !panel) return;
  var list = document.getElementById("kb-articles");
  var routing = document.getElementById("kb-routing");
  var chosen = document.getElementById("intake-answer-article");
  var timer = null, asked = "";

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
        chosen.value = a.id;
        if (form.reportValidity()) form.submit(); else chosen.value = "";
      });
      li.appendChild(document.createElement("br"));
      li.appendChild(button);
      list.appendChild(li);
    });
    if (!data.articles.length) list.appendChild(text("li", "没有找到相关知识", "muted"));
    routing.textContent = data.suggestions.length ? "分类建议：" + data.suggestions.map(function (s) {
      return s.category + " → " + s.unit + " " + Math.round(s.probability * 100) + "%";
    }).join("；") : "";
    panel.hidden = false;
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

  ["title", "body"].forEach(function (name) {
    form.elements[name].addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 300);
    });
  });
  ask();
})();
