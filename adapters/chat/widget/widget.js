/* Switchboard live chat widget. Plain JavaScript, no build step:
 *
 *   <script src="https://chat.example.org/chat/widget.js" async></script>
 *
 * Options as data- attributes on that script tag, or window.SwitchboardChatConfig set
 * before it: user_id + user_hash (and email + email_hash), signed by the host site's
 * backend with the identity secret, name, title, open ("true" to start open).
 * The protocol is in docs/chat.md. */
(function () {
  "use strict";
  if (window.SwitchboardChat) return; // loaded twice
  var script = document.currentScript;
  var base = new URL(script ? script.src : "/chat/widget.js", location.href);
  var wsUrl = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/chat/v1/ws";
  var uploadUrl = base.origin + "/chat/v1/attachments";

  var config = {};
  var global = window.SwitchboardChatConfig || {};
  ["user_id", "user_hash", "email", "email_hash", "name", "title", "open"].forEach(function (k) {
    var attr = script && script.getAttribute("data-" + k.replace("_", "-"));
    config[k] = global[k] !== undefined ? global[k] : attr;
  });

  var storeKey = "switchboard-chat:" + base.host + (config.user_id ? ":u:" + config.user_id : "");
  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try {
      localStorage.setItem(storeKey, JSON.stringify({ token: state.token, conversation_id: state.conversation,
                                                      pending: state.pending }));
    } catch (e) { /* private mode: the conversation lasts as long as the page */ }
  }

  var saved = load();
  var state = {
    token: saved.token || "",
    conversation: saved.conversation_id || "",
    lastSeq: 0,          // the newest seq this page has seen; 0 after a reload: replay everything
    seen: {},            // seq -> true, for the current conversation
    pending: saved.pending || [], // [{id, text, attachments}] not yet acknowledged
    synced: false,
    socket: null,
    retry: 0,
    readSent: 0
  };

  // --- the view ---------------------------------------------------------------------
  var css = ".sb-chat{position:fixed;right:16px;bottom:16px;z-index:2147483000;font:14px/1.4 system-ui,sans-serif}" +
    ".sb-toggle{border:0;border-radius:24px;padding:12px 18px;background:#2f6fed;color:#fff;cursor:pointer}" +
    ".sb-panel{display:none;width:320px;height:440px;background:#fff;border:1px solid #ccd;border-radius:10px;" +
    "box-shadow:0 6px 24px rgba(0,0,0,.18);flex-direction:column;overflow:hidden}" +
    ".sb-chat.sb-open .sb-panel{display:flex}.sb-chat.sb-open .sb-toggle{display:none}" +
    ".sb-head{background:#2f6fed;color:#fff;padding:10px 12px;display:flex;justify-content:space-between}" +
    ".sb-head button{background:none;border:0;color:#fff;cursor:pointer;font-size:16px}" +
    ".sb-status{font-size:12px;opacity:.8}" +
    ".sb-messages{flex:1;overflow-y:auto;padding:10px;display:flex;flex-direction:column;gap:6px}" +
    ".sb-msg{max-width:80%;padding:7px 10px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}" +
    ".sb-in{align-self:flex-end;background:#2f6fed;color:#fff}.sb-out{align-self:flex-start;background:#eef0f5}" +
    ".sb-pending{opacity:.6}.sb-msg a{color:inherit}" +
    ".sb-typing{height:18px;padding:0 10px;font-size:12px;color:#667}" +
    ".sb-form{display:flex;border-top:1px solid #dde}.sb-form input[type=text]{flex:1;border:0;padding:10px}" +
    ".sb-form button,.sb-form label{border:0;background:none;padding:0 10px;cursor:pointer;color:#2f6fed}";
  var style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);

  var root = document.createElement("div");
  root.className = "sb-chat";
  root.innerHTML =
    '<button class="sb-toggle" type="button">Chat with us</button>' +
    '<div class="sb-panel" role="dialog" aria-label="Chat">' +
    '<div class="sb-head"><div><div class="sb-title"></div><div class="sb-status">connecting…</div></div>' +
    '<button class="sb-close" type="button" aria-label="Close">×</button></div>' +
    '<div class="sb-messages" aria-live="polite"></div><div class="sb-typing"></div>' +
    '<form class="sb-form"><input type="text" class="sb-input" placeholder="Write a message…" maxlength="4000" ' +
    'autocomplete="off"><label title="Attach a file">📎<input type="file" class="sb-file" hidden></label>' +
    '<button type="submit" class="sb-send">Send</button></form></div>';
  function $(cls) { return root.querySelector("." + cls); }
  $("sb-title").textContent = config.title || "Chat";
  var list = $("sb-messages"), input = $("sb-input"), statusLine = $("sb-status"), typingLine = $("sb-typing");

  function mount() { document.body.appendChild(root); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  function setOpen(open) {
    root.classList.toggle("sb-open", open);
    if (open) { input.focus(); sendRead(); }
  }
  $("sb-toggle").onclick = function () { setOpen(true); };
  $("sb-close").onclick = function () { setOpen(false); };
  if (config.open === true || config.open === "true") setOpen(true);

  function setStatus(text) { statusLine.textContent = text; root.setAttribute("data-status", text); }

  function render(msg) {
    var el = msg.id ? list.querySelector('[data-id="' + CSS.escape(msg.id) + '"]') : null;
    if (!el) {
      el = document.createElement("div");
      list.appendChild(el);
    }
    el.className = "sb-msg " + (msg.direction === "inbound" ? "sb-in" : "sb-out") + (msg.pending ? " sb-pending" : "");
    if (msg.id) el.setAttribute("data-id", msg.id);
    if (msg.seq) el.setAttribute("data-seq", String(msg.seq));
    el.textContent = msg.text || "";
    (msg.attachments || []).forEach(function (a) {
      var link = document.createElement("div");
      link.textContent = "📎 " + (a.filename || "attachment") + " (" + a.size + " bytes)";
      el.appendChild(link);
    });
    list.scrollTop = list.scrollHeight;
  }

  // --- the connection -----------------------------------------------------------------
  function send(frame) {
    if (state.socket && state.socket.readyState === 1) { state.socket.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function connect() {
    setStatus("connecting…");
    state.synced = false;
    var ws = new WebSocket(wsUrl);
    state.socket = ws;
    ws.onopen = function () {
      var hello = { type: "hello", conversation_id: state.conversation, last_seq: state.lastSeq };
      if (config.user_id) { hello.user_id = config.user_id; hello.user_hash = config.user_hash; }
      else if (state.token) hello.token = state.token;
      if (config.name) hello.name = config.name;
      if (config.email && config.email_hash) { hello.email = config.email; hello.email_hash = config.email_hash; }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (event) {
      var f;
      try { f = JSON.parse(event.data); } catch (e) { return; }
      onFrame(f);
    };
    ws.onclose = function (event) {
      if (state.socket !== ws) return;
      state.socket = null;
      state.synced = false;
      if (event.code === 1008 && event.reason === "bad token") { state.token = ""; save(); }
      var delay = Math.min(10000, 500 * Math.pow(2, state.retry++));
      setStatus("offline, retrying…");
      setTimeout(connect, delay);
    };
  }

  function watermark(seq) { if (seq > state.lastSeq) state.lastSeq = seq; }

  function onFrame(f) {
    if (f.conversation_id && f.conversation_id !== state.conversation && f.type !== "error") {
      // A new conversation (the old one closed): a new sequence.
      state.conversation = f.conversation_id;
      state.lastSeq = 0;
      state.seen = {};
      save();
    }
    switch (f.type) {
      case "welcome":
        if (f.token) state.token = f.token;
        save();
        break;
      case "synced":
        state.synced = true;
        state.retry = 0;
        watermark(f.seq);
        setStatus("online");
        state.pending.forEach(function (p) { send({ type: "message", id: p.id, text: p.text, attachments: p.attachments }); });
        sendRead();
        break;
      case "message":
        if (state.seen[f.seq]) break;
        state.seen[f.seq] = true;
        watermark(f.seq);
        if (f.direction === "inbound" && f.id) dropPending(f.id);
        render(f);
        if (f.direction === "outbound") { typingLine.textContent = ""; sendRead(); }
        break;
      case "ack":
        state.seen[f.seq] = true;
        watermark(f.seq);
        var p = dropPending(f.id);
        var el = list.querySelector('[data-id="' + CSS.escape(f.id) + '"]');
        if (el) { el.classList.remove("sb-pending"); el.setAttribute("data-seq", String(f.seq)); }
        else if (p) render({ id: f.id, seq: f.seq, direction: "inbound", text: p.text, attachments: p.attachments });
        break;
      case "typing":
        typingLine.textContent = f.active ? (f.author || "Agent") + " is typing…" : "";
        clearTimeout(state.typingTimer);
        state.typingTimer = setTimeout(function () { typingLine.textContent = ""; }, 6000);
        break;
      case "error":
        if (f.code === "rate_limited" || f.code === "unavailable" || f.code === "not_ready") {
          // The message stays pending and goes again.
          setTimeout(function () {
            state.pending.forEach(function (p) {
              if (p.id === f.id) send({ type: "message", id: p.id, text: p.text, attachments: p.attachments });
            });
          }, f.retry_after_ms || 2000);
        } else if (f.id) {
          var bad = list.querySelector('[data-id="' + CSS.escape(f.id) + '"]');
          if (bad) bad.title = f.message;
          dropPending(f.id);
        }
        break;
    }
  }

  function dropPending(id) {
    for (var i = 0; i < state.pending.length; i++) {
      if (state.pending[i].id === id) { var p = state.pending.splice(i, 1)[0]; save(); return p; }
    }
    return null;
  }

  function sendRead() {
    if (!state.synced || !root.classList.contains("sb-open") || document.hidden) return;
    if (state.lastSeq > state.readSent && send({ type: "read", seq: state.lastSeq })) state.readSent = state.lastSeq;
  }
  document.addEventListener("visibilitychange", sendRead);

  function newId() { return "m" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8); }

  function sendMessage(text, attachments) {
    if (!text && !(attachments && attachments.length)) return null;
    var msg = { id: newId(), text: text, attachments: attachments || [] };
    state.pending.push(msg);
    save();
    render({ id: msg.id, direction: "inbound", text: text, attachments: msg.attachments, pending: true });
    if (state.synced) send({ type: "message", id: msg.id, text: text, attachments: msg.attachments });
    return msg.id;
  }

  $("sb-form").onsubmit = function (event) {
    event.preventDefault();
    var text = input.value.trim();
    input.value = "";
    if (sendMessage(text)) send({ type: "typing", active: false });
  };
  var lastTyping = 0;
  input.addEventListener("input", function () {
    var now = Date.now();
    if (now - lastTyping > 3000 && state.synced) { lastTyping = now; send({ type: "typing", active: true }); }
  });
  $("sb-file").onchange = function (event) {
    var file = event.target.files[0];
    if (!file || !state.token) return;
    fetch(uploadUrl + "?token=" + encodeURIComponent(state.token) + "&filename=" + encodeURIComponent(file.name),
          { method: "POST", body: file, headers: { "Content-Type": file.type || "application/octet-stream" } })
      .then(function (r) { if (!r.ok) throw new Error("upload refused: " + r.status); return r.json(); })
      .then(function (ref) { sendMessage("", [ref]); })
      .catch(function (e) { setStatus(e.message); });
    event.target.value = "";
  };

  // For pages and tests that drive the widget from script.
  window.SwitchboardChat = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    send: function (text) { return sendMessage(text); },
    state: function () {
      return { conversation_id: state.conversation, last_seq: state.lastSeq, synced: state.synced,
               pending: state.pending.length };
    }
  };
  connect();
})();
