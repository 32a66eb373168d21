/* The ticket page's automation panels (pivotdesk/web/automation/ticket.py): "m" focuses the macro search, a
 * [data-insert-text] button puts its text where the agent's cursor was in the reply box (the composer's editor
 * through window.deskComposer, a plain text field by hand; an apology opening,
 * data-insert-at="start", at the start), [data-macro-close] closes a macro preview.
 * No inline code under the CSP: behaviour is attached here by delegation, so HTMX swaps need no re-binding. */
(function () {
  "use strict";
  if (window.deskTicketAutomation) return;  // the panel may be drawn again: bind once
  window.deskTicketAutomation = true;

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "m" || evt.ctrlKey || evt.metaKey || evt.altKey || typing(evt.target)) return;
    var search = document.getElementById("macro-search");
    if (!search) return;
    evt.preventDefault();
    search.focus();
    search.select();
  });

  document.addEventListener("click", function (evt) {
    var target = evt.target instanceof Element ? evt.target : null;
    if (!target) return;
    var close = target.closest("[data-macro-close]");
    if (close) {
      var box = document.getElementById("macro-preview");
      if (box) box.innerHTML = "";
      return;
    }
    var button = target.closest("[data-insert-text]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-insert-target") || "reply-body");
    if (!field) return;
    var publicTab = document.querySelector("#reply-form [data-kind=public]");
    if (publicTab && field.id === "reply-body") publicTab.click();  // the opening is for the customer
    var text = button.getAttribute("data-insert-text") || "";
    var source = button.getAttribute("data-insert-from") && document.getElementById(button.getAttribute("data-insert-from"));
    if (source && typeof source.value === "string") text = source.value;  // the macro's reply as edited in its preview
    // The reply box is the composer's editor (web/composer.js): it inserts at the cursor it remembered.
    if (field.editor && window.deskComposer) {
      window.deskComposer.insert(text, button.getAttribute("data-insert-at") === "start");
      return;
    }
    var caret;
    if (button.getAttribute("data-insert-at") === "start") {
      var rest = field.value.replace(/^\s+/, "");
      if (rest.indexOf(text) === 0) { field.focus(); return; }  // inserted already
      field.value = rest ? text + "\n\n" + rest : text;
      caret = text.length;
    } else {
      // Where the cursor was when the agent left the box (its end when they never were in it).
      var at = field.dataset.caret !== undefined ? Math.min(+field.dataset.caret, field.value.length) : field.value.length;
      var before = field.value.slice(0, at);
      var after = field.value.slice(at);
      var lead = before && !/\n\s*$/.test(before) ? "\n\n" : "";
      var tail = after && !/^\s*\n/.test(after) ? "\n\n" : "";
      field.value = before + lead + text + tail + after;
      caret = before.length + lead.length + text.length;
    }
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.focus();
    field.setSelectionRange(caret, caret);
    field.dataset.caret = String(caret);
  });
  // The reply box remembers its cursor, so an insertion from a panel lands where the agent was writing.
  ["keyup", "click", "select", "input", "blur"].forEach(function (name) {
    document.addEventListener(name, function (evt) {
      var el = evt.target;
      if (el && el.id === "reply-body" && typeof el.selectionStart === "number") el.dataset.caret = String(el.selectionStart);
    }, true);
  });
})();
