/*
 * KAT web chat widget: self-hosted, talks to Rasa's socket.io channel
 * (channels/socketio.py) with socket.io-client 4, served from this same server.
 *
 * Embed with one script tag and a small settings object, either as data- attributes:
 *   <script src="https://chat.clinic.example/widget.js" defer
 *           data-server-url="https://bot.clinic.example" data-clinic-name="Riverside Clinic"
 *           data-clinic-phone="+1 555 010 0100" data-primary-color="#0b5394"></script>
 * or as a JSON block before it: <script type="application/json" id="kat-chat-config">
 *   {"serverUrl": "...", "clinicName": "...", "clinicPhone": "...", "colors": {"primary": "#0b5394"}}
 * </script>
 *
 * Security: every message is shown as text (textContent / createElement, never parsed as HTML),
 * links are made only for http, https, tel and mailto. The session id and its resume token
 * come from the server and stay in this tab's sessionStorage.
 */
(function () {
  "use strict";
  if (window.__katChatLoaded) { return; }
  window.__katChatLoaded = true;

  var script = document.currentScript ||
    document.querySelector('script[src$="/widget.js"],script[src="widget.js"]');
  var BASE = new URL(".", script ? script.src : window.location.href).href;
  var MAX_INPUT = 1000;
  var MAX_MESSAGES = 200;
  var LINK_SCHEMES = ["http:", "https:", "tel:", "mailto:"];
  var LINK_RE = /\b(?:https?:\/\/|mailto:|tel:)[^\s<>"'`]+/gi;
  var TRAILING = ".,;:!?)]}'\"";
  // Answer feedback (components/profile_nlg.py): buttons whose payload starts with this
  // are shown apart and small, as a group with this accessible name (domain.yml's
  // utter_feedback_offer text; tests/test_profile_nlg.py keeps the two equal).
  var FEEDBACK_PREFIX = "/feedback";
  var FEEDBACK_LABEL = "Was this answer helpful?";

  // --- settings --------------------------------------------------------------------
  function readConfig() {
    var cfg = {};
    var block = document.getElementById("kat-chat-config");
    if (block) {
      try { cfg = JSON.parse(block.textContent) || {}; } catch (e) {
        console.warn("kat-chat: the settings block is not valid JSON");
      }
    }
    var d = (script && script.dataset) || {};
    if (d.config) {
      try { Object.assign(cfg, JSON.parse(d.config)); } catch (e) {
        console.warn("kat-chat: data-config is not valid JSON");
      }
    }
    if (d.serverUrl) { cfg.serverUrl = d.serverUrl; }
    if (d.clinicName) { cfg.clinicName = d.clinicName; }
    if (d.clinicPhone) { cfg.clinicPhone = d.clinicPhone; }
    if (d.clinicHours) { cfg.clinicHours = d.clinicHours; }
    if (d.primaryColor) { cfg.colors = Object.assign({}, cfg.colors, { primary: d.primaryColor }); }
    if (d.open) { cfg.open = d.open === "true"; }
    cfg.serverUrl = String(cfg.serverUrl || window.location.origin).replace(/\/+$/, "");
    cfg.emergencyNumber = String(cfg.emergencyNumber || "911");
    cfg.crisisLine = String(cfg.crisisLine || "988");
    cfg.initPayload = cfg.initPayload === undefined ? "/greet" : cfg.initPayload;
    return cfg;
  }

  // --- colours: white or near-black text, whichever reaches 4.5:1 on the colour --------
  function parseHex(value) {
    var m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(value || "").trim());
    if (!m) { return null; }
    var hex = m[1].length === 3 ? m[1].replace(/(.)/g, "$1$1") : m[1];
    return [0, 2, 4].map(function (i) { return parseInt(hex.substr(i, 2), 16); });
  }
  function luminance(rgb) {
    var c = rgb.map(function (v) {
      v = v / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }
  function applyColours(root, colours) {
    var primary = parseHex(colours && colours.primary);
    if (!primary) { return; }
    var white = [255, 255, 255], dark = [27, 27, 27];
    if (contrast(primary, white) >= 4.5) {
      root.style.setProperty("--kat-on-primary", "#ffffff");
    } else if (contrast(primary, dark) >= 4.5) {
      root.style.setProperty("--kat-on-primary", "#1b1b1b");
    } else {
      return; // neither reads well: keep the default colours
    }
    root.style.setProperty("--kat-primary", colours.primary);
  }

  // --- this tab's conversation (sessionStorage) --------------------------------------
  var cfg = readConfig();
  var KEY = "kat-chat:v1:" + cfg.serverUrl;
  var state = (function () {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(KEY));
      if (saved && Array.isArray(saved.messages)) { return saved; }
    } catch (e) { /* storage off or corrupt: start afresh */ }
    return freshState(cfg.open !== false);
  })();
  function freshState(open) {
    return { session: null, messages: [], draft: "", open: open, nextId: 1, unread: 0 };
  }
  function save() {
    if (state.messages.length > MAX_MESSAGES) {
      state.messages = state.messages.slice(-MAX_MESSAGES);
    }
    try { window.sessionStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* full */ }
  }

  // --- DOM helpers ---------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function link(href, text) {
    var a = el("a", null, text);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }
  function safeHref(raw) {
    try {
      var url = new URL(raw);
      return LINK_SCHEMES.indexOf(url.protocol) >= 0 ? url.href : null;
    } catch (e) { return null; }
  }
  function telHref(number) {
    var digits = String(number).replace(/[^\d+]/g, "");
    return digits ? "tel:" + digits : null;
  }
  // Text with http(s)/tel/mailto links; everything else stays text nodes.
  function appendLinkified(parent, text) {
    var last = 0, match;
    LINK_RE.lastIndex = 0;
    while ((match = LINK_RE.exec(text)) !== null) {
      var raw = match[0];
      while (raw.length && TRAILING.indexOf(raw.charAt(raw.length - 1)) >= 0) {
        raw = raw.slice(0, -1);
      }
      var href = safeHref(raw);
      if (!href) { continue; }
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      parent.appendChild(link(href, raw));
      last = match.index + raw.length;
      LINK_RE.lastIndex = last;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // --- building the widget ---------------------------------------------------------------
  var clinic = cfg.clinicName ? String(cfg.clinicName) : "";
  var root = el("div", "kat-chat");
  applyColours(root, cfg.colors);

  var LAUNCHER_TEXT = clinic ? "Chat with " + clinic : "Chat with us";
  var launcher = el("button", "kat-launcher", LAUNCHER_TEXT);
  launcher.type = "button";
  launcher.setAttribute("aria-controls", "kat-panel");
  // Unread count while minimised: shown on the launcher, in its accessible name, in the
  // page title, and said once (politely) by the announcer below.
  var badge = el("span", "kat-badge");
  badge.setAttribute("aria-hidden", "true");
  badge.hidden = true;
  launcher.appendChild(badge);
  // Outside the panel, so it is heard while the panel is hidden.
  var announcer = el("p", "kat-visually-hidden kat-announcer");
  announcer.setAttribute("role", "status");
  announcer.setAttribute("aria-live", "polite");

  var panel = el("section", "kat-panel");
  panel.id = "kat-panel";
  panel.setAttribute("aria-labelledby", "kat-title");

  var header = el("div", "kat-header");
  var title = el("h2", "kat-title", clinic ? clinic + " assistant" : "Clinic assistant");
  title.id = "kat-title";
  var closeBtn = el("button", "kat-close", "Minimise");
  closeBtn.type = "button";
  closeBtn.setAttribute("aria-label", "Minimise chat");
  header.appendChild(title);
  header.appendChild(closeBtn);

  // Save transcript / End chat, with End chat's confirmation in the widget itself.
  var tools = el("div", "kat-tools");
  var saveBtn = el("button", "kat-tool kat-save", "Save transcript");
  saveBtn.type = "button";
  var endBtn = el("button", "kat-tool kat-end", "End chat");
  endBtn.type = "button";
  tools.appendChild(saveBtn);
  tools.appendChild(endBtn);
  var confirmBox = el("div", "kat-confirm");
  confirmBox.setAttribute("role", "group");
  confirmBox.setAttribute("aria-labelledby", "kat-confirm-text");
  confirmBox.hidden = true;
  var confirmText = el("p", "kat-confirm-text",
    "End this chat? This clears the conversation from this device and starts a new one. " +
    "Anything already sent to the clinic stays with the clinic.");
  confirmText.id = "kat-confirm-text";
  var confirmYes = el("button", "kat-confirm-yes", "Yes, end chat");
  confirmYes.type = "button";
  var confirmNo = el("button", "kat-confirm-no", "Keep chatting");
  confirmNo.type = "button";
  confirmBox.appendChild(confirmText);
  confirmBox.appendChild(confirmYes);
  confirmBox.appendChild(confirmNo);

  var status = el("p", "kat-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");

  var log = el("div", "kat-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-relevant", "additions");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;

  var typing = el("p", "kat-typing", "The assistant is typing…");
  typing.hidden = true;

  var form = el("form", "kat-form");
  form.setAttribute("aria-label", "Send a message");
  var label = el("label", "kat-visually-hidden", "Your message");
  label.htmlFor = "kat-input";
  var input = el("textarea", "kat-input");
  input.id = "kat-input";
  input.rows = 1;
  input.maxLength = MAX_INPUT;
  input.autocomplete = "off";
  input.placeholder = "Type your message";
  var sendBtn = el("button", "kat-send", "Send");
  sendBtn.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(sendBtn);

  var footer = el("footer", "kat-footer");
  footer.appendChild(document.createTextNode("Automated assistant · not for emergencies — call "));
  footer.appendChild(link(telHref(cfg.emergencyNumber), cfg.emergencyNumber));
  footer.appendChild(document.createTextNode(" / "));
  footer.appendChild(link(telHref(cfg.crisisLine), cfg.crisisLine));
  footer.appendChild(document.createTextNode(" · "));
  var humanBtn = el("button", "kat-human", "Talk to a person");
  humanBtn.type = "button";
  footer.appendChild(humanBtn);

  [header, tools, confirmBox, status, log, typing, form, footer].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(launcher);
  root.appendChild(announcer);
  root.appendChild(panel);

  // --- messages ----------------------------------------------------------------------------
  var nodes = {}; // message id -> element

  function renderMessage(msg) {
    var node = el("div", "kat-msg kat-msg-" + msg.from);
    var who = { bot: "Assistant: ", user: "You: ", system: "Note: " }[msg.from] || "";
    node.appendChild(el("span", "kat-visually-hidden", who));
    if (msg.from === "system" && Array.isArray(msg.parts)) {
      msg.parts.forEach(function (part) {
        if (typeof part === "string") { node.appendChild(document.createTextNode(part)); }
        else if (part && safeHref(part.href)) { node.appendChild(link(safeHref(part.href), part.text)); }
      });
    } else {
      appendLinkified(node, String(msg.text || ""));
    }
    if (msg.pending) {
      node.appendChild(el("span", "kat-pending-note", "Not sent yet: it will be sent when the chat reconnects."));
    }
    nodes[msg.id] = node;
    log.appendChild(node);
    var buttons = msg.buttons || [];
    var choices = buttons.filter(function (b) { return !isFeedback(b); });
    var ratings = buttons.filter(isFeedback);
    if (choices.length) {
      var group = el("div", "kat-replies");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      choices.forEach(function (b) {
        var btn = el("button", "kat-reply", b.title);
        btn.type = "button";
        btn.addEventListener("click", function () { sendUser(b.payload, b.title); });
        group.appendChild(btn);
      });
      log.appendChild(group);
    }
    if (ratings.length) {
      // Optional: nothing waits for it, typing a message simply removes it. The thanks
      // arrives as an assistant message in the log (aria-live="polite").
      var rate = el("div", "kat-feedback");
      rate.setAttribute("role", "group");
      rate.setAttribute("aria-label", FEEDBACK_LABEL);
      ratings.forEach(function (b) {
        var btn = el("button", "kat-feedback-btn", b.title);
        btn.type = "button";
        btn.addEventListener("click", function (event) {
          sendUser(b.payload, b.title);
          // From the keyboard (Enter/Space: detail 0) focus goes on to the message box,
          // not lost with the removed button.
          if (event.detail === 0) { input.focus(); }
        });
        rate.appendChild(btn);
      });
      log.appendChild(rate);
    }
    log.scrollTop = log.scrollHeight;
  }

  function isFeedback(button) {
    return String(button.payload || "").indexOf(FEEDBACK_PREFIX) === 0;
  }

  function addMessage(msg) {
    msg.id = state.nextId++;
    state.messages.push(msg);
    save();
    renderMessage(msg);
    return msg;
  }

  function clearReplies() {
    Array.prototype.forEach.call(log.querySelectorAll(".kat-replies, .kat-feedback"), function (g) { g.remove(); });
    state.messages.forEach(function (m) { delete m.buttons; });
  }

  function addSystem(parts) { addMessage({ from: "system", parts: parts }); }

  // --- connection --------------------------------------------------------------------------
  var socket = null;
  var ready = false; // connected and the session confirmed
  var typingTimer = null;

  function setStatus(text) { status.textContent = text || ""; }
  function showTyping() {
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typing.hidden = true; }, 30000);
  }
  function hideTyping() { typing.hidden = true; clearTimeout(typingTimer); }

  function reachAPerson() {
    var parts = ["The chat can't reach the assistant right now. To talk to a person, call the clinic"];
    var tel = cfg.clinicPhone && telHref(cfg.clinicPhone);
    if (tel) {
      parts.push(" at ", { href: tel, text: String(cfg.clinicPhone) });
    } else {
      parts.push(" (the number is on the clinic's website)");
    }
    if (cfg.clinicHours) { parts.push(", " + String(cfg.clinicHours)); }
    parts.push(". In an emergency call ", { href: telHref(cfg.emergencyNumber), text: cfg.emergencyNumber },
      ", or call or text ", { href: telHref(cfg.crisisLine), text: cfg.crisisLine }, ".");
    return parts;
  }

  function offline() {
    ready = false;
    hideTyping();
    setStatus("Reconnecting… You can keep typing: your messages will be sent when the chat is back." +
      (cfg.clinicPhone ? " To reach a person now, call " + cfg.clinicPhone + "." : ""));
  }

  function emitMessage(text) {
    socket.emit("user_uttered", { message: text });
    showTyping();
  }

  function flushPending() {
    state.messages.forEach(function (m) {
      if (m.pending && ready) {
        emitMessage(m.payload || m.text);
        delete m.pending;
        var note = nodes[m.id] && nodes[m.id].querySelector(".kat-pending-note");
        if (note) { note.remove(); }
      }
    });
    save();
  }

  function sendUser(payload, shown) {
    payload = String(payload || "").trim().slice(0, MAX_INPUT);
    if (!payload) { return; }
    clearReplies();
    var msg = { from: "user", text: shown || payload, payload: payload };
    if (ready && socket && socket.connected) {
      addMessage(msg);
      emitMessage(payload);
    } else {
      msg.pending = true;
      addMessage(msg);
    }
  }

  function onBotMessage(data) {
    if (!data || typeof data !== "object") { return; }
    var text = typeof data.text === "string" ? data.text : "";
    var raw = Array.isArray(data.quick_replies) ? data.quick_replies
      : (Array.isArray(data.buttons) ? data.buttons : []);
    var buttons = raw.filter(function (b) {
      return b && typeof b.title === "string" && typeof b.payload === "string";
    }).map(function (b) { return { title: b.title, payload: b.payload }; });
    if (!text && !buttons.length) { return; } // images, cards: not shown by this widget
    if (awaitingFresh) { return; } // the ended conversation's last words: not for the new one
    hideTyping();
    if (buttons.length) { clearReplies(); } // only the latest choices can be picked
    addMessage({ from: "bot", text: text, buttons: buttons.length ? buttons : undefined });
    if (!state.open && state.messages.some(function (m) { return m.from === "user"; })) {
      setUnread((state.unread || 0) + 1, true);
    }
  }

  // --- unread count (while minimised) ------------------------------------------------------
  var TITLE_PREFIX = /^\(\d+\) /;
  function setUnread(count, announce) {
    state.unread = count;
    save();
    var base = document.title.replace(TITLE_PREFIX, "");
    if (count > 0) {
      var words = count === 1 ? "1 unread message" : count + " unread messages";
      badge.textContent = String(count);
      badge.hidden = false;
      launcher.setAttribute("aria-label", LAUNCHER_TEXT + ", " + words);
      document.title = "(" + count + ") " + base;
      if (announce) { announcer.textContent = "New message in the chat. " + words + "."; }
    } else {
      badge.textContent = "";
      badge.hidden = true;
      launcher.removeAttribute("aria-label");
      if (document.title !== base) { document.title = base; }
      announcer.textContent = "";
    }
  }

  // --- transcript: plain text made here, nothing sent anywhere ------------------------------
  var STAFF_RE = /^Message from (?:the clinic team|(.+?), clinic team): ?/;
  function transcriptLine(m) {
    var who, text = String(m.text || "");
    if (m.from === "user") { who = "You"; }
    else if (m.from === "bot") {
      var staff = STAFF_RE.exec(text);
      if (staff) {
        who = staff[1] ? "Clinic team (" + staff[1] + ")" : "Clinic team";
        text = text.slice(staff[0].length);
      } else { who = "Clinic assistant"; }
    } else {
      who = "Note";
      text = Array.isArray(m.parts) ? m.parts.map(function (p) {
        return typeof p === "string" ? p : String((p && p.text) || "");
      }).join("") : text;
    }
    // Later lines of a long message are indented, so every line's speaker stays clear.
    return who + ": " + text.replace(/\r\n?/g, "\n").replace(/\n/g, "\n    ");
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function saveTranscript() {
    var now = new Date();
    var day = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
    var lines = ["Chat transcript" + (clinic ? ", " + clinic : "") + " (automated assistant), saved " +
      day + " " + pad(now.getHours()) + ":" + pad(now.getMinutes()), ""];
    state.messages.forEach(function (m) { lines.push(transcriptLine(m)); });
    var blob = new Blob([lines.join("\n") + "\n"], { type: "text/plain;charset=utf-8" });
    var url = URL.createObjectURL(blob);
    var a = document.createElement("a");
    a.href = url;
    a.download = "chat-transcript-" + day + ".txt";
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    announcer.textContent = "The transcript was saved as a text file.";
  }

  // --- end chat: forget this conversation on this device, start a new session --------------
  var awaitingFresh = false;
  function askEnd() {
    tools.hidden = true;
    confirmBox.hidden = false;
    confirmYes.focus();
  }
  function cancelEnd() {
    confirmBox.hidden = true;
    tools.hidden = false;
    endBtn.focus();
  }
  function endChat() {
    confirmBox.hidden = true;
    tools.hidden = false;
    hideTyping();
    Object.keys(nodes).forEach(function (id) { delete nodes[id]; });
    while (log.firstChild) { log.removeChild(log.firstChild); }
    input.value = "";
    state = freshState(true);
    try {
      window.sessionStorage.removeItem(KEY);
      [window.sessionStorage, window.localStorage].forEach(function (store) {
        Object.keys(store).forEach(function (k) {
          if (k.indexOf("kat-chat:") === 0) { store.removeItem(k); }
        });
      });
    } catch (e) { /* storage off: nothing kept anyway */ }
    setUnread(0, false);
    save();
    if (socket && socket.connected) {
      ready = false;
      awaitingFresh = true;
      socket.emit("session_request", {});
    } // offline: the next connect asks for a new session (state.session is null)
    announcer.textContent = "The chat was ended and cleared from this device. A new chat has started.";
    input.focus();
  }

  function connect() {
    /* global io */
    socket = io(cfg.serverUrl, {
      path: cfg.socketPath || "/socket.io",
      transports: ["websocket", "polling"],
      reconnectionDelayMax: 10000,
    });
    socket.on("connect", function () {
      ready = false;
      var s = state.session;
      socket.emit("session_request", s ? { session_id: s.session_id, resume_token: s.resume_token } : {});
    });
    socket.on("session_confirm", function (data) {
      if (!data || typeof data.session_id !== "string") { return; }
      awaitingFresh = false;
      var had = state.session && state.session.session_id;
      if (had && had !== data.session_id) {
        addSystem(["The chat could not continue the earlier conversation, so a new one has started."]);
      }
      state.session = { session_id: data.session_id, resume_token: data.resume_token };
      ready = true;
      setStatus("");
      save();
      var fresh = !state.messages.some(function (m) { return m.from !== "system"; });
      if (fresh && cfg.initPayload) { emitMessage(cfg.initPayload); }
      flushPending();
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("disconnect", offline);
    socket.on("connect_error", offline);
  }

  function loadClient(done) {
    if (typeof window.io === "function") { done(); return; }
    var tag = document.createElement("script");
    tag.src = BASE + "vendor/socket.io.min.js";
    tag.onload = done;
    tag.onerror = function () { setStatus("The chat could not load. To talk to a person, call the clinic."); };
    document.head.appendChild(tag);
  }

  // --- interaction ---------------------------------------------------------------------------
  function setOpen(open, focus) {
    state.open = open;
    save();
    panel.hidden = !open;
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) { log.scrollTop = log.scrollHeight; setUnread(0, false); }
    if (focus) { (open ? input : launcher).focus(); }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) { return; }
    input.value = "";
    state.draft = "";
    sendUser(text);
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  input.addEventListener("input", function () { state.draft = input.value; save(); });
  humanBtn.addEventListener("click", function () {
    if (ready && socket && socket.connected) { sendUser("/request_human", "Talk to a person"); }
    else { addSystem(reachAPerson()); }
  });
  launcher.addEventListener("click", function () { setOpen(true, true); });
  closeBtn.addEventListener("click", function () { setOpen(false, true); });
  saveBtn.addEventListener("click", saveTranscript);
  endBtn.addEventListener("click", askEnd);
  confirmNo.addEventListener("click", cancelEnd);
  confirmYes.addEventListener("click", endChat);
  panel.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    if (!confirmBox.hidden) { cancelEnd(); } else { setOpen(false, true); }
  });

  function start() {
    var link_ = document.createElement("link");
    link_.rel = "stylesheet";
    link_.href = BASE + "widget.css";
    link_.onload = function () { log.scrollTop = log.scrollHeight; };
    document.head.appendChild(link_);
    document.body.appendChild(root);
    state.messages.forEach(renderMessage);
    input.value = state.draft || "";
    setOpen(state.open !== false, false);
    if (state.open === false && state.unread > 0) { setUnread(state.unread, false); }
    setStatus("Connecting…");
    loadClient(connect);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
