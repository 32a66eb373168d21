/* PivotDesk agent workspace: keyboard shortcuts, queue cursor, reply state, toasts, menus, tabs. No build step.
 *
 * The pages run under a Content-Security-Policy without inline code or eval (docs/security.md): templates carry
 * data-* attributes and every behaviour lives here, attached by delegation so HTMX swaps need no re-binding. */
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

  /* ---- ticket page: the reply box is a Trix editor (web/composer.js): its text, its HTML, its cursor ---- */
  function replyText(el) {
    el = el || $("#reply-body");
    if (!el) return "";
    if (el.editor) return el.editor.getDocument().toString().replace(/\n$/, "");
    return el.value || "";
  }
  function replyHasFiles(el) {
    el = el || $("#reply-body");
    return !!(el && el.editor && el.editor.getDocument().getAttachments().length);
  }
  function replyHTML(form) {
    var input = form && $("[name=body_html]", form);
    if (!input) return ($("#reply-body", form) || {}).value || "";
    return replyText().trim() || replyHasFiles() ? input.value : "";
  }
  window.deskReplyText = replyText;

  /* ---- ticket page: reply state for the collision warning, version for change detection ---- */
  window.deskReplyState = function () {
    var body = $("#reply-body");
    var active = body && replyText(body).trim() && (document.activeElement === body || Date.now() - replyTouchedAt < 30000);
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
  function replyTouched(evt) {
    if (!evt.target || evt.target.id !== "reply-body") return;
    var was = window.deskReplyState();
    replyTouchedAt = Date.now();
    // Tell the others at once that a reply is being written, not at the next 10-second pulse.
    if (was !== "replying" && window.deskReplyState() === "replying") htmx.trigger(document.body, "desk-typing");
  }
  document.addEventListener("input", replyTouched);
  document.addEventListener("trix-change", replyTouched);
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

  /* ---- keyboard shortcuts ----
   * Single keys act only when the focus is not in a text field: there they type, and only type. The chords below
   * act wherever the focus is and never type. The reply mode has its own chord: Ctrl/⌘+Shift+N or Alt+N toggles
   * between a public reply and an internal note (Chrome on Windows and Linux keeps Ctrl+Shift+N for itself, hence
   * Alt+N; on a Mac, Option+N types "ñ" and stays a typing key there, and Ctrl+Shift+N reaches the page). */
  var onMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent || "");
  function modeChord(evt) {
    var code = evt.code || "";
    var n = code === "KeyN" || (!code && (evt.key === "n" || evt.key === "N"));
    if (!n) return false;
    return ((evt.ctrlKey || evt.metaKey) && evt.shiftKey && !evt.altKey) ||
      (!onMac && evt.altKey && !evt.ctrlKey && !evt.metaKey);
  }
  document.addEventListener("keydown", function (evt) {
    var key = evt.key;
    if (modeChord(evt)) {
      if (page() === "ticket" && $("#reply-form")) {
        evt.preventDefault();
        var current = $("#reply-form input[name=kind]");
        setReplyKind(current && current.value === "note" ? "public" : "note", true);
      }
      return;
    }
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
          if (!box) return;
          box.checked = !box.checked;
          box.dispatchEvent(new Event("change", { bubbles: true }));
        }
      } else if (key === "a") {
        var cur = currentRow();
        if (cur && cur.querySelector(".row-check")) {  // no checkboxes: the role has no bulk actions
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
        showTab("conv");
        setReplyKind(key === "r" ? "public" : "note", true);
      } else if (key === "s") {
        var status = $("#prop-status");
        if (status) { evt.preventDefault(); status.focus(); }
      } else if (key === "a") {
        var el = $("#ticket-page");
        if (el && el.dataset.assignUrl) {  // absent when the agent's role may not take tickets
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

  /* ---- small behaviours that templates ask for with data-* attributes (no inline handlers) ---- */
  // <select data-autosubmit>: choosing an option submits its form (workspace, language, filters).
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
  });
  // <input type=range data-show-value><output>: the output shows the value while sliding.
  document.addEventListener("input", function (evt) {
    var el = evt.target;
    if (el.matches && el.matches("[data-show-value]") && el.nextElementSibling) el.nextElementSibling.value = el.value;
  });
  document.addEventListener("click", function (evt) {
    var el = evt.target.closest && evt.target.closest("[data-select-on-focus]");
    if (el) el.select();
    var back = evt.target.closest && evt.target.closest("[data-history-back]");
    if (back && window.history.length > 1) { evt.preventDefault(); window.history.back(); }
  });

  /* ---- dropdowns: [data-dropdown] holds a [data-dropdown-toggle] button and a [data-dropdown-menu] ---- */
  function closeDropdowns(except) {
    $all("[data-dropdown]").forEach(function (box) {
      if (box === except) return;
      var menu = $("[data-dropdown-menu]", box), toggle = $("[data-dropdown-toggle]", box);
      if (menu) menu.hidden = true;
      if (toggle) toggle.setAttribute("aria-expanded", "false");
    });
  }
  document.addEventListener("click", function (evt) {
    var toggle = evt.target.closest && evt.target.closest("[data-dropdown-toggle]");
    var box = evt.target.closest && evt.target.closest("[data-dropdown]");
    closeDropdowns(box);
    if (!toggle || !box) return;
    var menu = $("[data-dropdown-menu]", box);
    if (!menu) return;
    menu.hidden = !menu.hidden;
    toggle.setAttribute("aria-expanded", String(!menu.hidden));
  });
  document.addEventListener("keydown", function (evt) { if (evt.key === "Escape") closeDropdowns(null); });

  /* ---- ticket page: Conversation / Timeline tabs ---- */
  function showTab(name) {
    $all("[data-tab]").forEach(function (b) {
      var on = b.dataset.tab === name;
      b.classList.toggle("on", on);
      b.setAttribute("aria-selected", String(on));
    });
    $all("[data-tabpane]").forEach(function (pane) { pane.hidden = pane.dataset.tabpane !== name; });
  }
  document.addEventListener("click", function (evt) {
    var tab = evt.target.closest && evt.target.closest("[data-tab]");
    if (tab) showTab(tab.dataset.tab);
  });

  /* ---- ticket page: public reply or internal note ---- */
  function setReplyKind(kind, focus) {
    var form = $("#reply-form");
    if (!form) return;
    // A role that may only leave notes has no public mode to switch to.
    if (!form.querySelector(".reply-tabs [data-kind=" + kind + "]")) kind = "note";
    form.dataset.mode = kind;
    form.classList.toggle("as-public", kind === "public");
    form.classList.toggle("as-note", kind === "note");
    $all(".reply-tabs [data-kind]", form).forEach(function (b) {
      b.classList.toggle("on", b.dataset.kind === kind);
      b.setAttribute("aria-selected", String(b.dataset.kind === kind));
    });
    var input = form.querySelector("input[name=kind]");
    if (input) input.value = kind;
    var body = $("#reply-body", form);
    var submit = form.querySelector("button[type=submit]");
    var suffix = kind === "note" ? "Note" : "Public";
    if (body && body.dataset["placeholder" + suffix]) body.setAttribute("placeholder", body.dataset["placeholder" + suffix]);
    if (submit && submit.dataset["label" + suffix]) submit.textContent = submit.dataset["label" + suffix];
    if (focus && body) body.focus();
  }
  window.deskSetReplyKind = setReplyKind;
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("#reply-form .reply-tabs [data-kind]");
    if (button) setReplyKind(button.dataset.kind, true);
  });
  // A message that was sent empties the form, keeps its mode (shown by the colour, the label and the button) and
  // takes the focus out of the text, to the tab of the mode it was sent in: the next r / n switch the mode instead
  // of typing a letter into the next message (a stray "n" once turned an internal note into a public reply), and
  // Enter there goes back into the empty editor.
  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (!form || form.id !== "reply-form" || !evt.detail.successful) return;
    var kind = form.querySelector("input[name=kind]");
    var keep = kind ? kind.value : "public";
    form.reset();
    setReplyKind(keep, false);
    var body = $("#reply-body", form);
    // reset() would bring back the draft the page was drawn with; the server dropped it
    if (body && body.editor) body.editor.loadHTML(""); else if (body) body.value = "";
    var tab = form.querySelector(".reply-tabs [data-kind].on");
    if (tab) tab.focus(); else if (body && document.activeElement === body) body.blur();
    clearTimeout(draftTimer);
    draftSaved = "";
    draftState("");
    window.deskReplyDone();
  });

  /* ---- ticket page: the reply box's text is kept on the server as a draft (a reload, another browser or a crash
   * loses nothing), saved a second after the last key and when the mode changes; leaving the page with unsent text
   * asks first. ---- */
  var draftTimer = null;
  var draftSaved = null;  // the text the server has ("" = none); null until the page's own draft is known
  function draftState(text, failed) {
    var el = $("#draft-state");
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("failed", !!failed);
  }
  function draftKey(form) {
    var kind = form.querySelector("input[name=kind]");
    return (kind ? kind.value : "public") + "\u0000" + replyHTML(form);
  }
  function saveDraft() {
    var form = $("#reply-form");
    var body = form && $("#reply-body", form);
    if (!form || !body || !form.dataset.draftUrl) return;
    var key = draftKey(form);
    if (key === draftSaved) return;
    var data = new FormData();
    var token = form.querySelector("[name=csrfmiddlewaretoken]");
    if (token) data.append("csrfmiddlewaretoken", token.value);
    data.append("body", replyHTML(form));  // the editor's HTML (composer.js reads it back on the next visit)
    data.append("kind", form.querySelector("input[name=kind]").value);
    // keepalive: a save started as the page closes still reaches the server.
    fetch(form.dataset.draftUrl, { method: "POST", body: data, credentials: "same-origin", keepalive: true }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      draftSaved = key;
      draftState(replyText(body).trim() || replyHasFiles(body) ? $("#draft-state").dataset.saved : "");
    }).catch(function () { draftState($("#draft-state").dataset.failed, true); });
  }
  function draftSoon() {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(saveDraft, 1000);
  }
  function draftKnown() {
    var form = $("#reply-form");
    if (form) draftSaved = draftKey(form);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draftKnown); else draftKnown();
  window.deskDraftKnown = draftKnown;  // composer.js: the editor has read the draft back
  document.addEventListener("trix-change", function (evt) {
    if (evt.target && evt.target.id === "reply-body" && draftSaved !== null) draftSoon();
  });
  document.addEventListener("click", function (evt) {
    if (evt.target.closest && evt.target.closest("#reply-form .reply-tabs [data-kind]")) draftSoon();
  });
  // Text put in by code (a macro, a suggestion) sends an input event too. A form being sent asks nothing.
  document.addEventListener("submit", function (evt) {
    if (evt.target && evt.target.id === "reply-form") { evt.target.dataset.sending = "1"; clearTimeout(draftTimer); }
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (evt.detail.elt && evt.detail.elt.id === "reply-form") delete evt.detail.elt.dataset.sending;
  });
  window.addEventListener("beforeunload", function (evt) {
    var form = $("#reply-form");
    var body = form && $("#reply-body", form);
    if (!body || !(replyText(body).trim() || replyHasFiles(body)) || form.dataset.sending) return;
    saveDraft();
    evt.preventDefault();
    evt.returnValue = form.dataset.unsent || "";
    return evt.returnValue;
  });

  /* ---- ticket page: the side panel's foldable sections keep the state the agent left them in ---- */
  function restoreFolds() {
    $all("details[data-fold]").forEach(function (d) {
      var saved = null;
      try { saved = localStorage.getItem("desk.fold." + d.dataset.fold); } catch (e) { /* private mode */ }
      if (saved === "closed") d.open = false;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", restoreFolds); else restoreFolds();
  document.addEventListener("toggle", function (evt) {
    var d = evt.target;
    if (!d || !d.dataset || !d.dataset.fold) return;
    try { localStorage.setItem("desk.fold." + d.dataset.fold, d.open ? "open" : "closed"); } catch (e) { /* private mode */ }
  }, true);

  /* ---- ticket page: @mentions in a note. Typing "@" and a few letters in note mode lists the colleagues who
   * match; ↑/↓ choose, Enter or Tab insert "@username ", Escape closes; a click inserts too. ---- */
  var mentionTimer = null;
  var mentionAt = -1;  // where the "@" being completed is in the text
  function mentionList() { return $("#mention-list"); }
  function closeMentions() {
    var list = mentionList();
    if (list) { list.hidden = true; list.innerHTML = ""; }
    mentionAt = -1;
  }
  function replyCaret(body) {
    if (body.editor) return body.editor.getSelectedRange()[0];
    return body.selectionStart;
  }
  function mentionQuery(body) {
    var form = $("#reply-form");
    if (!form || form.dataset.mode !== "note") return null;
    var caret = replyCaret(body);
    var before = replyText(body).slice(0, caret);
    var match = /(?:^|[^\w@.+-])@([A-Za-z0-9_.+\-]{0,150})$/.exec(before);
    if (!match) return null;
    mentionAt = caret - match[1].length - 1;
    return match[1];
  }
  function showMentions(body) {
    var q = mentionQuery(body);
    var list = mentionList();
    if (q === null || !list) { closeMentions(); return; }
    clearTimeout(mentionTimer);
    mentionTimer = setTimeout(function () {
      fetch(list.dataset.url + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) {
          if (mentionQuery(body) === null) return;
          list.innerHTML = html;
          list.style.top = (body.offsetTop + body.offsetHeight + 2) + "px";
          list.hidden = !html.trim();
        });
    }, 120);
  }
  function insertMention(item) {
    var body = $("#reply-body");
    if (!body || !item || !item.dataset.handle || mentionAt < 0) return;
    var text = "@" + item.dataset.handle + " ";
    var at = mentionAt;
    body.focus();
    if (body.editor) {
      body.editor.setSelectedRange([at, replyCaret(body)]);
      body.editor.insertString(text);
    } else {
      body.value = body.value.slice(0, at) + text + body.value.slice(body.selectionStart);
      body.setSelectionRange(at + text.length, at + text.length);
      body.dispatchEvent(new Event("input", { bubbles: true }));
    }
    closeMentions();
  }
  function moveMention(step) {
    var items = $all("#mention-list li[data-handle]");
    if (!items.length) return;
    var i = items.findIndex(function (li) { return li.classList.contains("on"); });
    i = (i + step + items.length) % items.length;
    items.forEach(function (li, n) { li.classList.toggle("on", n === i); li.setAttribute("aria-selected", String(n === i)); });
  }
  document.addEventListener("trix-change", function (evt) {
    if (evt.target && evt.target.id === "reply-body") showMentions(evt.target);
  });
  document.addEventListener("trix-selection-change", function (evt) {
    if (evt.target && evt.target.id === "reply-body" && mentionAt >= 0 && mentionQuery(evt.target) === null) closeMentions();
  });
  document.addEventListener("keydown", function (evt) {
    var list = mentionList();
    if (!list || list.hidden || !evt.target || evt.target.id !== "reply-body") return;
    if (evt.key === "ArrowDown" || evt.key === "ArrowUp") { evt.preventDefault(); moveMention(evt.key === "ArrowDown" ? 1 : -1); }
    else if ((evt.key === "Enter" || evt.key === "Tab") && !evt.ctrlKey && !evt.metaKey) {
      var on = $("#mention-list li.on[data-handle]");
      if (on) { evt.preventDefault(); evt.stopImmediatePropagation(); insertMention(on); }
    } else if (evt.key === "Escape") { evt.preventDefault(); evt.stopImmediatePropagation(); closeMentions(); }
  }, true);
  document.addEventListener("mousedown", function (evt) {
    var item = evt.target.closest && evt.target.closest("#mention-list li[data-handle]");
    if (item) { evt.preventDefault(); insertMention(item); }
    else if (!(evt.target.closest && evt.target.closest("#mention-list"))) closeMentions();
  });

  /* ---- ticket page: the pulse tells the server whether this agent is replying and which version it shows ---- */
  document.addEventListener("htmx:configRequest", function (evt) {
    if (!evt.detail.elt || !evt.detail.elt.hasAttribute("data-pulse")) return;
    evt.detail.parameters.state = window.deskReplyState();
    evt.detail.parameters.version = window.deskVersion();
  });
  // Another agent changed the ticket: refresh the properties unless this agent is editing them (next pulse then).
  document.body.addEventListener("remote-props-changed", function () {
    if (!window.deskEditingProps()) htmx.trigger(document.body, "remote-props-refresh");
  });

  /* ---- queue: bulk selection count; polling pauses while rows are selected or the tab is hidden ---- */
  function updateBulkbar() {
    var form = $("[data-bulk-form]");
    if (!form) return;
    var count = $all(".row-check:checked", form).length;
    var bar = $("[data-bulkbar]", form);
    if (bar) bar.classList.toggle("on", count > 0);
    var label = $(".sel-count", form);
    if (label) label.textContent = count ? count + " " + label.dataset.selectedLabel : label.dataset.hint;
    $all("[data-needs-selection]", form).forEach(function (b) { b.disabled = count === 0; });
  }
  document.addEventListener("change", function (evt) {
    if (evt.target.closest && evt.target.closest("[data-bulk-form]")) updateBulkbar();
  });
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    // A page opened from a notification marks it read first; that answer refreshes the bell. A count fetched at the
    // same time could land after it and show the old number until the next poll.
    if (elt && elt.id === "notif-count" && new URLSearchParams(window.location.search).has("from_notification")) {
      evt.preventDefault();
      return;
    }
    if (!elt || !elt.hasAttribute("data-poll-paused-by-selection")) return;
    if (document.querySelector(".row-check:checked") || document.visibilityState !== "visible") evt.preventDefault();
  });

  /* ---- forms whose invalid answer (422) carries the form with its errors: show it instead of an error toast ---- */
  document.addEventListener("htmx:beforeSwap", function (evt) {
    if (evt.detail.xhr.status !== 422 || !evt.target.closest || !evt.target.closest("[data-swap-invalid-form]")) return;
    evt.detail.shouldSwap = true;
    evt.detail.isError = false;
  });

  /* ---- bar widths from data-width="37%" / "120px" (set through the DOM: inline style attributes are refused) ---- */
  function applyWidths(root) {
    $all("[data-width]", root).forEach(function (el) {
      var width = el.dataset.width;
      if (/^[0-9]{1,4}(\.[0-9]+)?(%|px)$/.test(width)) el.style.width = width;
    });
  }

  htmx.onLoad(applyWidths);  // the first load and every swapped-in fragment

  document.addEventListener("DOMContentLoaded", function () {
    updateBulkbar();
    applyWidths(document);
    markLandedNotificationRead();
    if (page() === "queue") {
      var saved = -1;
      try { saved = parseInt(sessionStorage.getItem("desk.cursor") || "-1", 10); } catch (e) { saved = -1; }
      if (saved >= 0 && rows().length) setCursor(Math.min(saved, rows().length - 1));
    }
  });
})();
