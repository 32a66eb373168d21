// The top bar on a narrow screen (issue 18): the menu button opens and closes the main navigation, which desk.css
// hides below 700 px. Escape, a click outside and following a link close it; the button says whether it is open.
(function () {
  "use strict";

  function setOpen(bar, toggle, open) {
    bar.classList.toggle("nav-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function init() {
    var toggle = document.querySelector("[data-nav-toggle]");
    var bar = toggle && toggle.closest(".topbar");
    if (!bar) return;
    toggle.addEventListener("click", function (event) {
      event.stopPropagation();
      setOpen(bar, toggle, !bar.classList.contains("nav-open"));
    });
    document.addEventListener("click", function (event) {
      if (bar.classList.contains("nav-open") && !event.target.closest(".mainnav")) setOpen(bar, toggle, false);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && bar.classList.contains("nav-open")) {
        setOpen(bar, toggle, false);
        toggle.focus();
      }
    });
    // a wider window shows the navigation inline again: forget an open menu
    window.matchMedia("(min-width: 701px)").addEventListener("change", function (query) {
      if (query.matches) setOpen(bar, toggle, false);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
