// A step that cannot be quietly undone (停用 an account, 停用 a unit and hand its work over)
// is asked once: the form's data-confirm holds the question. 取消 leaves the page as it was.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });
})();
