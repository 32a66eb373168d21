/* The mailbox form (issue 18): choosing a mail provider fills the IMAP/SMTP fields and shows its notes; an address
   on a known domain (163.com, gmail.com, …) pre-selects its provider while the admin has not chosen one. The
   presets come from the page (json_script "mail-presets-data"), the notes are already translated in the page. */
(function () {
  "use strict";
  function setup() {
    var form = document.querySelector("[data-mailbox-form]");
    var dataNode = document.getElementById("mail-presets-data");
    if (!form || !dataNode) return;
    var presets = JSON.parse(dataNode.textContent || "{}");
    var select = form.querySelector("#f-preset");
    var address = form.querySelector("#f-address");
    if (!select) return;
    var chosenByHand = !!select.value && select.value !== "other";

    function field(key) { return form.querySelector("#f-" + key); }

    function showNotes(key) {
      var lists = document.querySelectorAll("[data-preset-notes]");
      for (var i = 0; i < lists.length; i++) {
        lists[i].hidden = lists[i].getAttribute("data-preset-notes") !== key;
      }
    }

    function fill(key) {
      var preset = presets[key];
      showNotes(key);
      if (!preset || !preset.config) return;
      Object.keys(preset.config).forEach(function (name) {
        var input = field(name);
        if (!input) return;
        var value = preset.config[name];
        if (input.type === "checkbox") {
          input.checked = !!value;
        } else {
          input.value = value === null || value === undefined ? "" : String(value);
        }
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
      var user = field("username");
      if (user && !user.value && address && address.value) user.value = address.value.trim();
    }

    function guess(text) {
      var at = text.lastIndexOf("@");
      if (at < 0) return "";
      var domain = text.slice(at + 1).trim().toLowerCase().replace(/\.$/, "");
      var found = "";
      Object.keys(presets).forEach(function (key) {
        (presets[key].domains || []).forEach(function (d) {
          if (!found && (domain === d || domain.slice(-(d.length + 1)) === "." + d)) found = key;
        });
      });
      return found;
    }

    select.addEventListener("change", function () {
      chosenByHand = true;
      fill(select.value);
    });
    if (address) {
      var onAddress = function () {
        var key = guess(address.value);
        if (key && !chosenByHand && select.value !== key) {
          select.value = key;
          fill(key);
        }
      };
      address.addEventListener("input", onAddress);
      address.addEventListener("change", function () {
        onAddress();
        var user = field("username");
        if (user && !user.value) user.value = address.value.trim();
      });
    }
    showNotes(select.value);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
