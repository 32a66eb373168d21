/* The settings area (issue 18): rows editors (custom field options, an agent's skills) and the field type switch.
   No JSON to type: each option is a row with up / down / remove; "Add" appends one; Enter in a row adds the next. */
(function () {
  "use strict";

  function rowsOf(container) {
    return container.querySelector("[data-row-list]");
  }

  function addRow(container, after) {
    var template = container.querySelector("template[data-row-template]");
    var list = rowsOf(container);
    if (!template || !list) return null;
    var row = template.content.firstElementChild.cloneNode(true);
    if (after && after.parentNode === list) list.insertBefore(row, after.nextSibling);
    else list.appendChild(row);
    var input = row.querySelector("input");
    if (input) input.focus();
    return row;
  }

  function rowOf(el) {
    return el.closest(".sa-row");
  }

  document.addEventListener("click", function (evt) {
    var target = evt.target.closest && evt.target.closest("[data-row-add], [data-row-remove], [data-row-up], [data-row-down]");
    if (!target) return;
    var container = target.closest("[data-rows]");
    if (!container) return;
    evt.preventDefault();
    if (target.hasAttribute("data-row-add")) {
      addRow(container, null);
      return;
    }
    var row = rowOf(target);
    if (!row) return;
    var list = rowsOf(container);
    if (target.hasAttribute("data-row-remove")) {
      if (list && list.querySelectorAll(".sa-row").length === 1) {
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      } else {
        var next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        var focus = next && next.querySelector("input");
        if (focus) focus.focus();
      }
    } else if (target.hasAttribute("data-row-up") && row.previousElementSibling) {
      row.parentNode.insertBefore(row, row.previousElementSibling);
      target.focus();
    } else if (target.hasAttribute("data-row-down") && row.nextElementSibling) {
      row.parentNode.insertBefore(row.nextElementSibling, row);
      target.focus();
    }
  });

  // Enter in an option row adds the next row instead of submitting the form.
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Enter" || !evt.target.matches || !evt.target.matches("[data-rows] .sa-row input")) return;
    evt.preventDefault();
    addRow(evt.target.closest("[data-rows]"), rowOf(evt.target));
  });

  // A new field's type: the options editor is for select and multi-select fields only.
  function syncType(select) {
    var form = select.form;
    var editor = form && form.querySelector("[data-options-editor]");
    if (!editor) return;
    var types = (form.getAttribute("data-select-types") || "").split(" ");
    var on = types.indexOf(select.value) !== -1;
    editor.hidden = !on;
    var label = form.querySelector(".sa-options-label");
    if (label) label.hidden = !on;
    editor.querySelectorAll("input").forEach(function (input) { input.disabled = !on; });
  }

  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches("[data-field-type]")) syncType(evt.target);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-field-type]").forEach(syncType);
  });
})();
