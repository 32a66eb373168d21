/*
 * PivotDesk chat widget — one tag on any site:
 *   <script src="https://desk.example.cn/static/channels/widget.js" data-channel="<chat key>" async></script>
 * Optional: data-lang="zh-hans|en", data-base="https://desk.example.cn" (defaults to the script's origin).
 *
 * Injects a launcher button and a panel inside a shadow root (the host page's CSS cannot reach it), keeps a signed
 * visitor token in localStorage, posts messages to /channels/chat/<key>/messages/ and polls the same URL for the
 * agent's replies. No build step, no dependencies.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-channel]");
  if (!script || window.__pivotdeskChat) return;
  var key = script.getAttribute("data-channel");
  if (!key) return;
  var base = (script.getAttribute("data-base") || new URL(script.src, location.href).origin).replace(/\/$/, "");
  var api = base + "/channels/chat/" + encodeURIComponent(key);
  var lang = (script.getAttribute("data-lang") || navigator.language || "en").toLowerCase().indexOf("zh") === 0 ? "zh-hans" : "en";
  var storeKey = "pivotdesk-chat:" + key;

  var T = {
    en: { open: "Chat with us", close: "Close chat", name: "Your name", email: "Email (for answers when you are away)",
          emailRequired: "Email", placeholder: "Write a message…", send: "Send", sending: "Sending…",
          failed: "Not sent — tap to retry", offline: "Connection lost, retrying…", ticket: "Ticket", you: "You" },
    "zh-hans": { open: "在线咨询", close: "关闭对话", name: "您的称呼", email: "邮箱（离开后我们会通过邮件回复）",
          emailRequired: "邮箱", placeholder: "请输入消息…", send: "发送", sending: "发送中…",
          failed: "发送失败，点击重试", offline: "连接中断，正在重试…", ticket: "工单", you: "我" }
  }[lang];

  var state = { token: null, config: null, lastId: 0, seen: {}, open: false, timer: null, ticket: null, unread: 0 };
  try { state.token = localStorage.getItem(storeKey); } catch (e) { /* storage blocked: a session per page */ }

  var host = document.createElement("div");
  host.setAttribute("data-pivotdesk-chat", key);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  // The styles go in as a constructed stylesheet where the browser has them: a host page whose
  // Content-Security-Policy refuses inline <style> (no 'unsafe-inline') still shows the widget styled.
  var css =
    ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif}" +
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;height:56px;padding:0 22px 0 18px;" +
    "display:flex;align-items:center;gap:8px;color:#fff;background:var(--c,#2563eb);font-size:15px;font-weight:600;cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.2)}" +
    ".launcher svg{width:22px;height:22px;fill:currentColor}.badge{background:#ef4444;border-radius:10px;padding:0 7px;font-size:12px;line-height:20px}" +
    ".panel{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:360px;max-width:calc(100vw - 24px);height:520px;max-height:calc(100vh - 110px);" +
    "background:#fff;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.22);display:flex;flex-direction:column;overflow:hidden;color:#1f2937;font-size:14px}" +
    ".panel[hidden]{display:none}" +
    "header{background:var(--c,#2563eb);color:#fff;padding:14px 16px;display:flex;align-items:center;justify-content:space-between}" +
    "header b{font-size:16px}header small{display:block;opacity:.85;font-size:12px;margin-top:2px}" +
    "header button{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:4px}" +
    ".log{flex:1;overflow-y:auto;padding:14px;background:#f8fafc;display:flex;flex-direction:column;gap:8px}" +
    ".greet{color:#475569;background:#fff;border:1px solid #e2e8f0;border-radius:12px;padding:10px 12px;align-self:flex-start;max-width:85%}" +
    ".msg{max-width:80%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;word-wrap:break-word;line-height:1.45}" +
    ".msg.visitor{align-self:flex-end;background:var(--c,#2563eb);color:#fff;border-bottom-right-radius:4px}" +
    ".msg.agent{align-self:flex-start;background:#fff;border:1px solid #e2e8f0;border-bottom-left-radius:4px}" +
    ".msg .who{display:block;font-size:11px;color:#64748b;margin-bottom:2px}.msg.pending{opacity:.6}.msg.failed{background:#fee2e2;color:#991b1b;cursor:pointer}" +
    ".who-form{padding:10px 12px 0;display:grid;gap:6px;background:#fff;border-top:1px solid #e2e8f0}.who-form[hidden]{display:none}" +
    "input,textarea{width:100%;border:1px solid #cbd5e1;border-radius:8px;padding:8px 10px;font-size:14px;color:#1f2937;background:#fff}" +
    "input:focus,textarea:focus{outline:2px solid rgba(37,99,235,.3);border-color:var(--c,#2563eb)}" +
    ".compose{display:flex;gap:8px;padding:10px 12px 12px;background:#fff}.compose textarea{resize:none;height:42px}" +
    ".compose button{white-space:nowrap;flex:none;border:0;border-radius:8px;background:var(--c,#2563eb);color:#fff;font-weight:600;padding:0 16px;cursor:pointer}" +
    ".status{font-size:12px;color:#b45309;padding:0 14px 6px;background:#fff}.status:empty{display:none}";
  var markup =
    '<div class="panel" role="dialog" aria-label="' + T.open + '" hidden>' +
    '<header><div><b class="title">' + T.open + '</b><small class="sub"></small></div><button type="button" class="x" aria-label="' + T.close + '">×</button></header>' +
    '<div class="log" aria-live="polite"><div class="greet"></div></div>' +
    '<div class="status" role="status"></div>' +
    '<div class="who-form" hidden><input class="name" type="text" autocomplete="name" placeholder="' + T.name + '">' +
    '<input class="email" type="email" autocomplete="email" placeholder="' + T.email + '"></div>' +
    '<form class="compose"><textarea class="text" placeholder="' + T.placeholder + '" aria-label="' + T.placeholder + '"></textarea>' +
    '<button type="submit" class="send">' + T.send + "</button></form></div>" +
    '<button type="button" class="launcher" aria-expanded="false"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>' +
    '<span class="label">' + T.open + '</span><span class="badge" hidden></span></button>';
  var constructed = false;
  if (root !== host && "adoptedStyleSheets" in root && typeof CSSStyleSheet === "function") {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
      constructed = true;
    } catch (e) { /* an older engine: fall back to a <style> element */ }
  }
  root.innerHTML = (constructed ? "" : "<style>" + css + "</style>") + markup;

  var $ = function (sel) { return root.querySelector(sel); };
  var panel = $(".panel"), launcher = $(".launcher"), log = $(".log"), statusLine = $(".status");

  function headers(json) {
    var h = {};
    if (json) h["Content-Type"] = "application/json";
    if (state.token) h["X-PivotDesk-Visitor"] = state.token;
    return h;
  }

  function request(method, path, body) {
    path += (path.indexOf("?") < 0 ? "?" : "&") + "lang=" + lang;
    return fetch(api + path, {
      method: method, headers: headers(!!body), body: body ? JSON.stringify(body) : undefined,
      mode: "cors", credentials: "omit"
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { var err = new Error(data.message || r.status); err.status = r.status; throw err; }
        return data;
      });
    });
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function bubble(m) {
    var el = document.createElement("div");
    el.className = "msg " + m.from;
    if (m.id) el.setAttribute("data-id", m.id);
    if (m.from === "agent" && m.author) {
      var who = document.createElement("span");
      who.className = "who"; who.textContent = m.author; el.appendChild(who);
    }
    el.appendChild(document.createTextNode(m.text));
    return el;
  }

  function add(m) {
    if (m.id && state.seen[m.id]) return;
    if (m.id) { state.seen[m.id] = true; state.lastId = Math.max(state.lastId, m.id); }
    if (m.ticket) { state.ticket = m.ticket; $(".sub").textContent = T.ticket + " #" + m.ticket; }
    log.appendChild(bubble(m));
    if (!state.open && m.from === "agent") { state.unread += 1; badge(); }
    scrollDown();
  }

  function badge() {
    var b = $(".badge");
    b.hidden = !state.unread; b.textContent = state.unread;
  }

  function applyConfig(cfg) {
    state.config = cfg;
    host.style.setProperty("--c", cfg.color || "#2563eb");
    root.host && root.host.style.setProperty("--c", cfg.color || "#2563eb");
    $(".title").textContent = cfg.title;
    $(".label").textContent = cfg.title;
    $(".greet").textContent = cfg.greeting;
    $(".who-form").hidden = !(cfg.ask_email || cfg.require_email) || !!state.ticket;
    if (cfg.require_email) $(".email").placeholder = T.emailRequired + " *";
  }

  function start() {
    return request("POST", "/session/").then(function (data) {
      state.token = data.token;
      try { localStorage.setItem(storeKey, data.token); } catch (e) { /* ignore */ }
      if (data.ticket) { state.ticket = data.ticket; $(".sub").textContent = T.ticket + " #" + data.ticket; }
      applyConfig(data.config);
      return poll().then(schedule);
    });
  }

  function poll() {
    if (!state.token) return Promise.resolve();
    return request("GET", "/messages/?since=" + state.lastId).then(function (data) {
      statusLine.textContent = "";
      (data.messages || []).forEach(add);
    }, function (err) {
      if (err.status === 401) { state.token = null; try { localStorage.removeItem(storeKey); } catch (e) { /* */ } return start(); }
      statusLine.textContent = T.offline;
    });
  }

  function schedule() {
    clearTimeout(state.timer);
    var every = ((state.config && state.config.poll_seconds) || 2.5) * 1000;
    state.timer = setTimeout(function () { poll().then(schedule, schedule); }, state.open ? every : every * 4);
  }

  function send(text, pendingEl) {
    var body = {
      text: text, name: $(".name").value.trim(), email: $(".email").value.trim(), page_url: location.href,
      client_id: Date.now().toString(36) + Math.random().toString(36).slice(2, 8)
    };
    var el = pendingEl || bubble({ from: "visitor", text: text });
    el.className = "msg visitor pending";
    if (!pendingEl) { log.appendChild(el); scrollDown(); }
    return request("POST", "/messages/", body).then(function (data) {
      el.remove();
      add(data.message);
      $(".who-form").hidden = true;
      schedule();
    }, function (err) {
      el.className = "msg visitor failed";
      el.title = T.failed + (err.message ? " (" + err.message + ")" : "");
      statusLine.textContent = err.message || T.failed;
      el.onclick = function () { el.onclick = null; send(text, el); };
    });
  }

  $(".compose").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var box = $(".text"), text = box.value.trim();
    if (!text) return;
    if (state.config && state.config.require_email && !$(".email").value.trim()) { $(".email").focus(); return; }
    box.value = "";
    send(text);
  });
  $(".text").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $(".compose").requestSubmit(); }
  });

  function setOpen(open) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      state.unread = 0; badge();
      (state.config ? poll() : start()).then(schedule);
      setTimeout(function () { $(".text").focus(); }, 0);
    }
  }
  launcher.addEventListener("click", function () { setOpen(!state.open); });
  $(".x").addEventListener("click", function () { setOpen(false); });

  function mount() {
    document.body.appendChild(host);
    if (state.token) start().catch(function () { /* offline: retried on open */ });
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  window.__pivotdeskChat = { open: function () { setOpen(true); }, close: function () { setOpen(false); } };
})();
