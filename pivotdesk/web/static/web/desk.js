/* PivotDesk agent workspace: keyboard shortcuts, queue cursor, reply state, toasts. No build step. */
(function () {
  "use strict";

  var pendingG = false;
  var replyTouchedAt = 0;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function page() { return document.body.dataset.page; }
  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  /* ---- toasts: HTMX error responses carry a readable message ---- */
  function toast(html, level, text) {
    var box = $("#toasts");
    if (!box) return;
    var wrap = document.createElement("div");
    wrap.innerHTML = html;
    var el = wrap.firstElementChild;
    if (!el || !el.classList.contains("toast")) {
      el = document.createElement("div");
      el.className = "toast " + (level || "error");
      el.textContent = text || wrap.textContent.trim().slice(0, 300) || String(level);
    }
    box.appendChild(el);
    setTimeout(function () { el.classList.add("fade"); }, 5000);
    setTimeout(function () { el.remove(); }, 5600);
  }
  window.deskToast = toast;

  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr.status === 401) return;
    toast(xhr.responseText || String(xhr.status), "error");
    // Show the server's truth again after a refused change.
    if (evt.detail.elt && evt.detail.elt.closest && evt.detail.elt.closest("#properties")) {
      htmx.trigger(document.body, "props-changed");
    }
  });
  document.addEventListener("htmx:sendError", function () { toast("", "error", document.body.dataset.networkError); });

  /* ---- confirm before destructive forms ---- */
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) evt.preventDefault();
  }, true);

  /* ---- ticket page: reply state for the collision warning, version for change detection ---- */
  window.deskReplyState = function () {
    var body = $("#reply-body");
    var active = body && body.value.trim() && (document.activeElement === body || Date.now() - replyTouchedAt < 30000);
    return active ? "replying" : "viewing";
  };
  window.deskVersion = function () {
    var form = $("#properties");
    return form ? form.dataset.version : "";
  };
  window.deskReplyDone = function () { replyTouchedAt = 0; };
  // True while the agent has focus inside the properties form: a remote refresh waits for the next pulse.
  window.deskEditingProps = function () {
    var form = $("#properties");
    return !!(form && document.activeElement && form.contains(document.activeElement));
  };
  document.addEventListener("input", function (evt) {
    if (!evt.target || evt.target.id !== "reply-body") return;
    var was = window.deskReplyState();
    replyTouchedAt = Date.now();
    // Tell the others at once that a reply is being written, not at the next 10-second pulse.
    if (was !== "replying" && window.deskReplyState() === "replying") htmx.trigger(document.body, "desk-typing");
  });
  window.addEventListener("pagehide", function () {
    var el = $("#ticket-page");
    if (!el || !navigator.sendBeacon) return;
    var data = new FormData();
    var token = document.querySelector("[name=csrfmiddlewaretoken]");
    if (token) data.append("csrfmiddlewaretoken", token.value);
    navigator.sendBeacon(el.dataset.leaveUrl, data);
  });

  /* ---- queue cursor ---- */
  var cursor = -1;
  function rows() { return $all("#queue-rows tr.qrow"); }
  function setCursor(i) {
    var list = rows();
    if (!list.length) return;
    cursor = Math.max(0, Math.min(i, list.length - 1));
    list.forEach(function (r, n) { r.classList.toggle("cursor", n === cursor); });
    list[cursor].scrollIntoView({ block: "nearest" });
    try { sessionStorage.setItem("desk.cursor", String(cursor)); } catch (e) { /* private mode */ }
  }
  function currentRow() { var list = rows(); return cursor >= 0 ? list[cursor] : null; }
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "queue-rows" || $("#queue-rows") && cursor >= 0) {
      if (page() === "queue" && cursor >= 0) setCursor(cursor);
    }
  });
  document.addEventListener("click", function (evt) {
    var row = evt.target.closest && evt.target.closest("tr.qrow");
    if (!row || evt.target.closest("a, input, button, label")) return;
    if (evt.target.closest("td.cb")) return;
    window.location.href = row.dataset.href;
  });
  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches("[data-select-all]")) {
      $all(".row-check").forEach(function (c) { c.checked = evt.target.checked; });
      evt.target.closest("form").dispatchEvent(new Event("change", { bubbles: true }));
    }
  });

  function postForm(url, fields) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = url;
    var token = document.querySelector("[name=csrfmiddlewaretoken]");
    fields = fields || {};
    if (token) fields.csrfmiddlewaretoken = token.value;
    Object.keys(fields).forEach(function (k) {
      [].concat(fields[k]).forEach(function (v) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = k; input.value = v;
        form.appendChild(input);
      });
    });
    document.body.appendChild(form);
    form.submit();
  }

  /* ---- help overlay ---- */
  function help(show) {
    var el = $("#help");
    if (el) el.hidden = !show;
  }
  document.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-help]")) { evt.preventDefault(); help(true); }
    if (evt.target.closest("[data-close-help]") || evt.target.id === "help") help(false);
  });

  /* ---- keyboard shortcuts ---- */
  document.addEventListener("keydown", function (evt) {
    var key = evt.key;
    if ((evt.ctrlKey || evt.metaKey) && key === "Enter") {
      var form = evt.target.closest && evt.target.closest("#reply-form");
      if (form) { evt.preventDefault(); htmx.trigger(form, "submit"); }
      return;
    }
    if (key === "Escape") {
      help(false);
      if (typing(document.activeElement)) document.activeElement.blur();
      return;
    }
    if (evt.ctrlKey || evt.metaKey || evt.altKey || typing(evt.target)) return;
    if (pendingG) {
      pendingG = false;
      if (key === "i") { evt.preventDefault(); window.location.href = "/queue/"; }
      return;
    }
    if (key === "g") { pendingG = true; setTimeout(function () { pendingG = false; }, 1200); return; }
    if (key === "?") { evt.preventDefault(); help($("#help").hidden); return; }
    if (key === "/") {
      var search = $("#global-search");
      if (search) { evt.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (page() === "queue") {
      if (key === "j") { evt.preventDefault(); setCursor(cursor + 1); }
      else if (key === "k") { evt.preventDefault(); setCursor(cursor - 1); }
      else if (key === "Enter" || key === "o") {
        var row = currentRow();
        if (row) { evt.preventDefault(); window.location.href = row.dataset.href; }
      } else if (key === "x") {
        var r = currentRow();
        if (r) {
          var box = r.querySelector(".row-check");
          box.checked = !box.checked;
          box.dispatchEvent(new Event("change", { bubbles: true }));
        }
      } else if (key === "a") {
        var cur = currentRow();
        if (cur) {
          evt.preventDefault();
          postForm("/queue/bulk/", {
            ids: cur.querySelector(".row-check").value, action: "assign", assignee: "me",
            next: window.location.pathname + window.location.search
          });
        }
      }
      return;
    }
    if (page() === "ticket") {
      if (key === "r" || key === "n") {
        evt.preventDefault();
        window.dispatchEvent(new CustomEvent("desk-tab", { detail: "conv" }));
        window.dispatchEvent(new CustomEvent("desk-reply", { detail: key === "r" ? "public" : "note" }));
      } else if (key === "s") {
        var status = $("#prop-status");
        if (status) { evt.preventDefault(); status.focus(); }
      } else if (key === "a") {
        var el = $("#ticket-page");
        if (el) {
          evt.preventDefault();
          htmx.ajax("POST", el.dataset.assignUrl, { source: "#props-wrap", target: "#props-wrap", swap: "innerHTML" });
        }
      }
    }
  });

  /* ---- remote images in customer mail: shown on the agent's click, for that message only ---- */
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-show-images]");
    if (!button) return;
    var box = button.closest(".msg-box");
    if (!box) return;
    $all("img[data-blocked-src]", box).forEach(function (img) {
      img.setAttribute("src", img.getAttribute("data-blocked-src"));
      img.removeAttribute("data-blocked-src");
    });
    var bar = button.closest("[data-images-blocked]");
    if (bar) bar.hidden = true;
  });

  /* ---- a notification opened from the bell is marked read by the page it lands on (POST, never the GET link) ---- */
  function markLandedNotificationRead() {
    var params = new URLSearchParams(window.location.search);
    var id = params.get("from_notification");
    var bell = $("[data-notification-read-url]");
    if (!id || !/^[0-9]{1,18}$/.test(id) || !bell) return;
    params.delete("from_notification");
    var rest = params.toString();
    history.replaceState(history.state, "", window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
    var url = bell.dataset.notificationReadUrl.replace(/\/0\/read\/$/, "/" + id + "/read/");
    htmx.ajax("POST", url, { source: bell, target: "#notif-dropdown", swap: "innerHTML" });
  }

  document.addEventListener("DOMContentLoaded", function () {
    markLandedNotificationRead();
    if (page() === "queue") {
      var saved = -1;
      try { saved = parseInt(sessionStorage.getItem("desk.cursor") || "-1", 10); } catch (e) { saved = -1; }
      if (saved >= 0 && rows().length) setCursor(Math.min(saved, rows().length - 1));
    }
  });
})();
