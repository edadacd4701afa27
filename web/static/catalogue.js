// Level-3 search of the dispatch catalogue as the operator types (GET /api/v1/catalogue?q=),
// offered in the field's datalist; the chosen entry also goes with the suggestion buttons.
(function () {
  "use strict";
  var input = document.querySelector("[data-catalogue-search]");
  if (!input) { return; }
  var list = document.getElementById(input.getAttribute("list"));
  var timer = null, asked = "";

  function show(entries) {
    list.textContent = "";
    entries.forEach(function (e) {
      var option = document.createElement("option");
      option.value = e.path;
      option.label = e.local ? "属地（事发地镇街）" : (e.unit_name || "") + (e.unit_active === false ? "（已停用）" : "");
      list.appendChild(option);
    });
  }

  function search() {
    var q = input.value.trim();
    if (q.indexOf("/") >= 0) { q = q.split("/").pop().trim(); }  // a chosen path: search its level 3
    if (!q || q === asked) { return; }
    asked = q;
    fetch("/api/v1/catalogue?q=" + encodeURIComponent(q), {headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {entries: []}; })
      .then(function (data) { if (asked === q) { show(data.entries || []); } })
      .catch(function () {});
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
    document.querySelectorAll("[data-proposed-category]").forEach(function (hidden) { hidden.value = input.value; });
  });
  input.addEventListener("focus", search);
})();
