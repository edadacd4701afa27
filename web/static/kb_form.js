// The web form suggests public knowledge base answers while the citizen types; an answer
// opens with "这解决了我的问题", which counts a deflection (the citizen did not file).
(function () {
  var form = document.getElementById("complaint-form");
  var box = document.getElementById("kb-suggest");
  if (!form || !box) return;
  var list = document.getElementById("kb-suggest-list");
  var timer = null, asked = "";

  function ask() {
    var words = ((form.elements.title.value || "") + " " + (form.elements.body.value || "")).trim().slice(0, 200);
    if (words.length < 4 || words === asked) return;
    asked = words;
    fetch("/kb/suggest?q=" + encodeURIComponent(words))
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || asked !== words) return;
        list.innerHTML = "";
        data.results.forEach(function (a) {
          var li = document.createElement("li");
          var link = document.createElement("a");
          link.href = "/kb/" + a.id + "?from=form&q=" + encodeURIComponent(words);
          link.target = "_blank";
          link.textContent = a.title;
          li.appendChild(link);
          var small = document.createElement("small");
          small.className = "hint";
          small.textContent = " " + a.snippet;
          li.appendChild(small);
          list.appendChild(li);
        });
        box.hidden = data.results.length === 0;
      })
      .catch(function () { /* the form works without suggestions */ });
  }

  ["title", "body"].forEach(function (name) {
    form.elements[name].addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 500);
    });
  });
})();
