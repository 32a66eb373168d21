/* The ticket page's reply composer (issue 18): the Trix editor of web/ticket/_reply.html and what goes with it.
 *
 * - Trix keeps the hidden input #reply-html (posted as body_html, saved as the draft by desk.js) in step.
 * - Files pasted or dropped into the editor are uploaded at once (form[data-upload-url], one request each); an image
 *   is shown inline from its attachment URL, another file as a chip; the reply posts their ids as `uploads`.
 * - Ctrl/⌘+Enter sends in the shown mode (desk.js); Ctrl/⌘+Shift+Enter always sends an internal note.
 * - A public reply that looks like a note asks first (a dialog: add it as a note, send it anyway, keep editing). It
 *   looks like a note when it names a colleague with "@" (mentions only work in notes), starts with a note marker
 *   ("Note:", "Internal:", "内部:", "备注:") or a stray "n" glued to the next word (the `n` meant to switch to a note
 *   typed into the text: issue 12), or was begun in note mode and switched to public before sending.
 * - window.deskComposer.insert(text, atStart) puts text where the agent's cursor was (macros, AI suggestions).
 * No inline code under the CSP: behaviour is attached here by delegation. */
(function () {
  "use strict";
  if (window.deskComposer) return;
  if (window.deskTrixStylesHeld) window.deskTrixStylesHeld();  // Trix has loaded: head.insertBefore is ours again
  // Trix previews a pasted image from a blob: URL, which our CSP's img-src does not allow: read it as a data: URL
  // instead (allowed for images), until the upload gives the image its own URL.
  var Attachment = window.Trix && window.Trix.models && window.Trix.models.Attachment;
  if (Attachment && Attachment.prototype.preloadFile) {
    Attachment.prototype.preloadFile = function () {
      var self = this;
      var file = this.file;
      if (!file || typeof FileReader === "undefined") return;
      var reader = new FileReader();
      reader.onload = function () { if (self.file === file && !self.getURL()) self.preload(String(reader.result)); };
      reader.readAsDataURL(file);
    };
  }

  function form() { return document.getElementById("reply-form"); }
  function editorEl() { return document.getElementById("reply-body"); }
  function editor() { var el = editorEl(); return el && el.editor ? el.editor : null; }
  function text() {
    var ed = editor();
    return ed ? ed.getDocument().toString().replace(/\n$/, "") : "";
  }
  function mode() { var f = form(); return f ? f.dataset.mode : "public"; }
  function toast(message) { if (window.deskToast) window.deskToast("", "error", message); }

  /* ---- the editor's cursor, remembered while the agent is in it, for insertions from the side panel ---- */
  var lastRange = null;
  document.addEventListener("trix-selection-change", function (evt) {
    if (evt.target.id !== "reply-body" || document.activeElement !== evt.target) return;
    lastRange = evt.target.editor.getSelectedRange();
  });

  function insert(value, atStart) {
    var ed = editor();
    if (!ed) return false;
    var el = editorEl();
    var current = text();
    var caret;
    el.focus();
    if (atStart) {
      var rest = current.replace(/^\s+/, "");
      if (rest.indexOf(value) === 0) return true;  // inserted already
      ed.setSelectedRange([0, 0]);
      ed.insertString(rest ? value + "\n\n" : value);
      caret = value.length;
    } else {
      // Where the cursor was when the agent left the editor (its end when they never were in it).
      var at = lastRange ? Math.min(lastRange[0], current.length) : current.length;
      var end = lastRange ? Math.min(lastRange[1], current.length) : at;
      var before = current.slice(0, at);
      var after = current.slice(end);
      var lead = before && !/\n\s*$/.test(before) ? "\n\n" : "";
      var tail = after && !/^\s*\n/.test(after) ? "\n\n" : "";
      ed.setSelectedRange([at, end]);
      ed.insertString(lead + value + tail);
      caret = at + lead.length + value.length;
    }
    ed.setSelectedRange([caret, caret]);
    lastRange = [caret, caret];
    return true;
  }

  /* ---- the mode, said to screen readers and kept on the editor's name; "begun as a note" remembered ---- */
  var startedAs = null;  // the mode the current text was begun in
  function announce(f) {
    var kind = f.dataset.mode;
    var label = f.dataset[kind === "note" ? "announceNote" : "announcePublic"] || "";
    var el = editorEl();
    if (el) {
      el.setAttribute("aria-label", label);
      el.setAttribute("aria-describedby", kind === "note" ? "reply-mode-note" : "reply-mode-public");
    }
    var live = document.getElementById("reply-mode-live");
    if (live && live.textContent !== label) live.textContent = label;
  }
  function watchMode() {
    var f = form();
    if (!f || f.dataset.composerWatched) return;
    f.dataset.composerWatched = "1";
    new MutationObserver(function () { announce(f); }).observe(f, { attributes: true, attributeFilter: ["data-mode"] });
    if (window.Trix && f.dataset.remove) window.Trix.config.lang.remove = f.dataset.remove;
  }

  document.addEventListener("trix-initialize", function (evt) {
    if (evt.target.id !== "reply-body") return;
    var ed = evt.target.editor;
    var input = document.getElementById("reply-html");
    var saved = input ? input.value : "";
    if (saved.trim() && saved.trim().charAt(0) !== "<") {
      // A draft written in the plain text box before the editor: its lines become lines.
      var div = document.createElement("div");
      div.textContent = saved;
      ed.loadHTML("<div>" + div.innerHTML.replace(/\n/g, "<br>") + "</div>");
    }
    startedAs = text().trim() ? mode() : null;
    watchMode();
    if (window.deskDraftKnown) window.deskDraftKnown();
  });
  document.addEventListener("trix-change", function (evt) {
    if (evt.target.id !== "reply-body") return;
    var empty = !text().trim() && !evt.target.editor.getDocument().getAttachments().length;
    if (empty) startedAs = null;
    else if (startedAs === null) startedAs = mode();
  });

  /* ---- files: pasted or dropped into the editor, uploaded at once ---- */
  var uploading = 0;
  function upload(attachment) {
    var f = form();
    if (!f || !f.dataset.uploadUrl) return;
    var data = new FormData();
    var token = f.querySelector("[name=csrfmiddlewaretoken]");
    if (token) data.append("csrfmiddlewaretoken", token.value);
    data.append("file", attachment.file);
    data.append("kind", mode());
    var xhr = new XMLHttpRequest();
    uploading += 1;
    xhr.open("POST", f.dataset.uploadUrl, true);
    xhr.setRequestHeader("HX-Request", "true");  // a refusal comes back as a toast fragment
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) attachment.setUploadProgress(e.loaded / e.total * 100); };
    xhr.onloadend = function () {
      uploading -= 1;
      var answer = null;
      try { answer = xhr.status === 201 ? JSON.parse(xhr.responseText) : null; } catch (e) { answer = null; }
      if (!answer) {
        attachment.remove();
        if (window.deskToast && xhr.responseText && xhr.status >= 400) window.deskToast(xhr.responseText, "error");
        else toast(f.dataset.uploadFailed);
        return;
      }
      attachment.setAttributes({ url: answer.url, href: answer.url, uploadId: String(answer.id), filename: answer.filename });
    };
    xhr.send(data);
  }
  document.addEventListener("trix-attachment-add", function (evt) {
    if (evt.target.id !== "reply-body" || !evt.attachment.file) return;
    upload(evt.attachment);
  });

  /* ---- what the form posts: the editor's HTML with each file as the server stores it, and the files' ids ---- */
  function composed() {
    var input = document.getElementById("reply-html");
    var html = input ? input.value : "";
    var ids = [];
    if (!html || html.indexOf("data-trix-attachment") < 0) return { html: html, ids: ids };
    var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    Array.prototype.forEach.call(doc.querySelectorAll("figure[data-trix-attachment]"), function (figure) {
      var spec = {};
      try { spec = JSON.parse(figure.getAttribute("data-trix-attachment")) || {}; } catch (e) { spec = {}; }
      var attrs = {};
      try { attrs = JSON.parse(figure.getAttribute("data-trix-attributes") || "{}") || {}; } catch (e) { attrs = {}; }
      var id = attrs.uploadId || spec.uploadId;
      if (id) ids.push(String(id));
      var img = figure.querySelector("img");
      if (img && spec.url && /^image\//.test(spec.contentType || "")) {
        var clean = doc.createElement("img");
        clean.setAttribute("src", spec.url);
        clean.setAttribute("alt", spec.filename || "");
        figure.replaceWith(clean);
      } else {
        figure.remove();  // a file that is not shown inline goes with the reply as an attachment
      }
    });
    return { html: doc.body.innerHTML, ids: ids };
  }
  document.addEventListener("htmx:configRequest", function (evt) {
    var f = form();
    if (!f || evt.detail.elt !== f) return;
    var params = evt.detail.parameters;
    var out = composed();
    params.body_html = out.html;
    if (out.ids.length) params.uploads = out.ids;
    if (f.dataset.sendAs === "note") params.kind = "note";  // the note chord: never public, whatever the form says
    if (params.kind === "note") { delete params.cc; delete params.bcc; }
  });

  /* ---- sending: Ctrl/⌘+Shift+Enter as a note; a public reply that looks like a note asks first ---- */
  function looksLikeNote(f) {
    var body = text().trim();
    var reasons = [];
    if (/(^|[\s(（，,])@[A-Za-z0-9_][A-Za-z0-9_.+\-]*/.test(body)) reasons.push("mention");
    if (/^(internal( note)?|note|fyi internal|内部备注|内部|备注)\s*[:：]/i.test(body) || /^n(?=[A-Z\u3400-\u9fff])/.test(body)) reasons.push("marker");
    if (startedAs === "note" && f.querySelector(".reply-tabs [data-kind=note]")) reasons.push("started");
    return reasons;
  }
  function ask(f, reasons) {
    var dialog = document.getElementById("reply-confirm");
    if (!dialog || typeof dialog.showModal !== "function") return window.confirm(dialog ? dialog.querySelector("h3").textContent : "");
    Array.prototype.forEach.call(dialog.querySelectorAll("[data-reason]"), function (p) {
      p.hidden = reasons.indexOf(p.getAttribute("data-reason")) < 0;
    });
    dialog.showModal();
    var first = dialog.querySelector("[data-confirm=note]");
    if (first) first.focus();
    return null;  // answered by a click
  }
  function send(f) {
    f.dataset.confirmed = "1";
    htmx.trigger(f, "submit");
  }
  document.addEventListener("submit", function (evt) {
    var f = evt.target;
    if (!f || f.id !== "reply-form") return;
    var block = function () { evt.preventDefault(); evt.stopImmediatePropagation(); };
    if (!f.dataset.synced) {
      // Ctrl+Enter right after the last key: let Trix take in that key and write its hidden input, then send.
      block();
      setTimeout(function () {
        requestAnimationFrame(function () {
          var el = editorEl();
          if (el && el.editorController && el.editorController.updateInputElement) el.editorController.updateInputElement();
          f.dataset.synced = "1";
          htmx.trigger(f, "submit");
        });
      }, 0);
      return;
    }
    delete f.dataset.synced;
    if (f.dataset.confirmed) { delete f.dataset.confirmed; return; }  // asked already: on to desk.js and htmx
    if (uploading > 0) { block(); toast(f.dataset.uploading); return; }
    if (f.dataset.sendAs === "note") return;
    var kind = f.querySelector("input[name=kind]");
    if (!kind || kind.value !== "public") return;
    var reasons = looksLikeNote(f);
    if (!reasons.length) return;
    block();
    var answer = ask(f, reasons);
    if (answer === true) send(f);
  }, true);
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("#reply-confirm [data-confirm]");
    if (!button) return;
    var dialog = document.getElementById("reply-confirm");
    var f = form();
    var choice = button.getAttribute("data-confirm");
    dialog.close();
    if (!f) return;
    if (choice === "note") {
      if (window.deskSetReplyKind) window.deskSetReplyKind("note", false);
      f.dataset.sendAs = "note";
      send(f);
    } else if (choice === "public") {
      send(f);
    } else {
      var el = editorEl();
      if (el) el.focus();
    }
  });
  document.addEventListener("keydown", function (evt) {
    // Enter in the Cc / Bcc fields picks a suggestion; it never sends the reply by itself (Ctrl/⌘+Enter does).
    if (evt.key === "Enter" && !evt.ctrlKey && !evt.metaKey && evt.target.closest && evt.target.closest("#reply-form .reply-copies")) {
      evt.preventDefault();
      return;
    }
    if (evt.key !== "Enter" || !(evt.ctrlKey || evt.metaKey) || !evt.shiftKey) return;
    var f = evt.target.closest && evt.target.closest("#reply-form");
    if (!f) return;
    evt.preventDefault();
    evt.stopImmediatePropagation();
    if (window.deskSetReplyKind) window.deskSetReplyKind("note", false);
    f.dataset.sendAs = "note";
    htmx.trigger(f, "submit");
  }, true);
  document.addEventListener("htmx:afterRequest", function (evt) {
    var f = evt.detail.elt;
    if (!f || f.id !== "reply-form") return;
    delete f.dataset.sendAs;
    delete f.dataset.confirmed;
    if (evt.detail.successful) { startedAs = null; lastRange = null; }
  });

  window.deskComposer = { insert: insert, text: text };
})();
