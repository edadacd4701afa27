// Back from a login that an expired session forced: fill the form that was posted with what
// had been typed (the server kept it; web/pages/kept.py). Fields the person changes since are
// left alone: only empty or untouched fields are filled, once, at load.
(function () {
  var data = document.getElementById("kept-form");
  if (!data) return;
  var kept = JSON.parse(data.textContent);
  var form = Array.prototype.find.call(document.forms, function (f) {
    return new URL(f.action, location.href).pathname === kept.action;
  });
  if (!form) { var d = document.getElementById("kept-form-fields"); if (d) d.open = true; return; }
  Object.keys(kept.fields).forEach(function (name) {
    var values = [].concat(kept.fields[name]);   // a name posted several times: its values as a list
    var value = values[0];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name !== name) return;
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.type === "checkbox" ? (el.value || "on") : el.value) >= 0;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) >= 0; });
      } else if (el.tagName === "SELECT" || el.type !== "submit") {
        el.value = value;
        el.dispatchEvent(new Event("input", {bubbles: true}));
      }
    });
  });
  var first = form.querySelector("textarea, input:not([type=hidden])");
  if (first) first.scrollIntoView({block: "center"});
})();
