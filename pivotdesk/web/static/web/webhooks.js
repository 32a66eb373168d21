/* Webhook settings: copy a just-issued signing secret to the clipboard (the secret is shown once). */
(function () {
  "use strict";
  document.addEventListener("click", function (evt) {
    var button = evt.target instanceof Element ? evt.target.closest("[data-copy]") : null;
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var done = function () { button.textContent = button.getAttribute("data-copied") || button.textContent; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else {
      field.focus();
      field.select();
      if (document.execCommand("copy")) done();
    }
  });
})();
