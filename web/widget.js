/*
 * KAT web chat widget: self-hosted, talks to Rasa's socket.io channel
 * (channels/socketio.py) with socket.io-client 4, served from this same server.
 *
 * Embed with one script tag and a small settings object, either as data- attributes:
 *   <script src="https://chat.clinic.example/widget.js" defer
 *           data-server-url="https://bot.clinic.example" data-clinic-name="Riverside Clinic"
 *           data-clinic-phone="+1 555 010 0100" data-primary-color="#0b5394"></script>
 * or as a JSON block before it: <script type="application/json" id="kat-chat-config">
 *   {"serverUrl": "...", "clinicName": "...", "clinicPhone": "...", "language": "es",
 *    "colors": {"primary": "#0b5394"}}
 * </script>
 *
 * Language: "language" in the settings, else the page's <html lang>, else English. Every
 * string the widget shows comes from i18n/<language>.json next to this file (served by the
 * same server; tests/test_webchat_app.py checks both files have the same keys and that
 * every key used here exists). If no strings file can be loaded the widget does not
 * appear, as when this file itself cannot load.
 *
 * Security: every message is shown as text (textContent / createElement, never parsed as HTML),
 * links are made only for http, https, tel and mailto. The session id and its resume token
 * come from the server and stay in this tab's sessionStorage. Only when the patient ticks
 * "Keep this chat on this device" is a copy kept in localStorage: the messages and a keep
 * token with an expiry (never the resume token), checked by the server too
 * (docs/webchat-patient.md).
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
  // The strings files next to this one (web/i18n/); anything else falls back to English.
  var LANGUAGES = ["en", "es"];
  // Answer feedback (components/profile_nlg.py): buttons whose payload starts with this
  // are shown apart and small, as a group named by the strings' "feedbackLabel" (the
  // domain's utter_feedback_offer text).
  var FEEDBACK_PREFIX = "/feedback";
  // While a hand-off is open: ask the server again this often (and after every message).
  var HANDOFF_POLL_MS = 30000;
  var HANDOFF_AFTER_MESSAGE_MS = 1000;
  // The staff reply's own opening words (domain.yml utter_staff_reply), left out of the
  // saved transcript, which names the speaker itself.
  var STAFF_RE = /^Message from (?:the clinic team|(.+?), clinic team): ?/;

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
    if (d.language) { cfg.language = d.language; }
    if (d.primaryColor) { cfg.colors = Object.assign({}, cfg.colors, { primary: d.primaryColor }); }
    if (d.open) { cfg.open = d.open === "true"; }
    cfg.serverUrl = String(cfg.serverUrl || window.location.origin).replace(/\/+$/, "");
    cfg.emergencyNumber = String(cfg.emergencyNumber || "911");
    cfg.crisisLine = String(cfg.crisisLine || "988");
    // Undefined: the strings file's greetPayload ("/greet"; in Spanish a Spanish hello,
    // so the conversation starts in the page's language: kat/language_choice.py).
    return cfg;
  }

  // "es-MX" -> "es"; a language without a strings file -> "en".
  function pickLanguage(cfg) {
    var raw = cfg.language || document.documentElement.getAttribute("lang") || "en";
    var code = String(raw).trim().toLowerCase().split(/[-_]/)[0];
    return LANGUAGES.indexOf(code) >= 0 ? code : "en";
  }

  function loadStrings(language, done) {
    function fallback() {
      if (language !== "en") { loadStrings("en", done); return; }
      console.warn("kat-chat: the strings file could not be loaded; the chat is not shown");
    }
    if (typeof window.fetch !== "function") { return; }
    window.fetch(BASE + "i18n/" + language + ".json", { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (strings) {
        if (strings && typeof strings === "object") { done(language, strings); } else { fallback(); }
      }, fallback);
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

  var cfg = readConfig();
  var LANG = pickLanguage(cfg);

  function main(language, strings) {
    LANG = language;

    // A string from the file, with {name} filled from values (unknown names kept as is).
    function t(key, values) {
      var text = typeof strings[key] === "string" ? strings[key] : key;
      return text.replace(/\{(\w+)\}/g, function (whole, name) {
        return values && values[name] !== undefined && values[name] !== null ? String(values[name]) : whole;
      });
    }
    // The same into parent, where a value may be a DOM node (a link, a button).
    function fill(parent, key, values) {
      var text = typeof strings[key] === "string" ? strings[key] : key;
      var re = /\{(\w+)\}/g, last = 0, match;
      while ((match = re.exec(text)) !== null) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
        var value = values && values[match[1]];
        if (value && value.nodeType) { parent.appendChild(value); }
        else if (value !== undefined && value !== null) { parent.appendChild(document.createTextNode(String(value))); }
        else { parent.appendChild(document.createTextNode(match[0])); }
        last = match.index + match[0].length;
      }
      parent.appendChild(document.createTextNode(text.slice(last)));
    }

    // --- this tab's conversation (sessionStorage), and the kept copy (localStorage) -------
    var KEY = "kat-chat:v1:" + cfg.serverUrl;
    var KEEP_KEY = "kat-chat:keep:v1:" + cfg.serverUrl;

    function freshState(open) {
      return {
        session: null, messages: [], draft: "", open: open, nextId: 1, unread: 0,
        keep: false, kept: null, keepHours: null,
      };
    }
    function store(name) {
      try { return window[name]; } catch (e) { return null; } // storage off
    }
    // The kept copy, if there is one and it has not expired (an expired one is removed).
    function readKept() {
      var local = store("localStorage");
      if (!local) { return null; }
      try {
        var kept = JSON.parse(local.getItem(KEEP_KEY));
        if (!kept) { return null; }
        if (kept.v === 1 && Array.isArray(kept.messages) && typeof kept.expires === "number" &&
            kept.expires > Date.now() && typeof kept.session_id === "string" &&
            typeof kept.keep_token === "string" && typeof kept.keep_until === "number") {
          return kept;
        }
      } catch (e) { /* corrupt: removed below */ }
      removeKept();
      return null;
    }
    function removeKept() {
      var local = store("localStorage");
      try { if (local) { local.removeItem(KEEP_KEY); } } catch (e) { /* storage off */ }
    }
    function writeKept() {
      var local = store("localStorage");
      if (!local || !state.keep || !state.kept) { return; }
      var expires = state.kept.keep_until * 1000;
      if (expires <= Date.now()) { stopKeeping(false); return; }
      try {
        local.setItem(KEEP_KEY, JSON.stringify({
          v: 1, expires: expires, session_id: state.kept.session_id,
          keep_token: state.kept.keep_token, keep_until: state.kept.keep_until,
          messages: state.messages, nextId: state.nextId,
        }));
      } catch (e) { /* full */ }
      scheduleExpiry(expires);
    }

    var state = (function () {
      var tab = store("sessionStorage");
      try {
        var saved = tab && JSON.parse(tab.getItem(KEY));
        if (saved && Array.isArray(saved.messages)) {
          if (saved.keep && !readKept()) { saved.keep = false; saved.kept = null; } // expired
          return saved;
        }
      } catch (e) { /* storage off or corrupt: start afresh */ }
      var kept = readKept();
      if (kept) { // a return visit with the kept copy: the server checks its token again
        var restored = freshState(cfg.open !== false);
        restored.messages = kept.messages;
        restored.nextId = kept.nextId || kept.messages.length + 1;
        restored.keep = true;
        restored.kept = { session_id: kept.session_id, keep_token: kept.keep_token, keep_until: kept.keep_until };
        return restored;
      }
      return freshState(cfg.open !== false);
    })();

    function save() {
      if (state.messages.length > MAX_MESSAGES) {
        state.messages = state.messages.slice(-MAX_MESSAGES);
      }
      var tab = store("sessionStorage");
      try { if (tab) { tab.setItem(KEY, JSON.stringify(state)); } } catch (e) { /* full */ }
      if (state.keep) { writeKept(); }
    }

    var expiryTimer = null;
    function scheduleExpiry(at) {
      clearTimeout(expiryTimer);
      var wait = Math.min(Math.max(at - Date.now(), 0), 2147483647);
      expiryTimer = setTimeout(function () {
        if (state.kept && state.kept.keep_until * 1000 <= Date.now()) { stopKeeping(false); }
      }, wait);
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
    root.lang = LANG; // read in the widget's language even on a page in another
    applyColours(root, cfg.colors);

    var LAUNCHER_TEXT = clinic ? t("launcherNamed", { clinic: clinic }) : t("launcher");
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
    var title = el("h2", "kat-title", clinic ? t("titleNamed", { clinic: clinic }) : t("title"));
    title.id = "kat-title";
    var closeBtn = el("button", "kat-close", t("minimise"));
    closeBtn.type = "button";
    closeBtn.setAttribute("aria-label", t("minimiseLabel"));
    header.appendChild(title);
    header.appendChild(closeBtn);

    // Save transcript / End chat, with End chat's confirmation in the widget itself.
    var tools = el("div", "kat-tools");
    var saveBtn = el("button", "kat-tool kat-save", t("saveTranscript"));
    saveBtn.type = "button";
    var endBtn = el("button", "kat-tool kat-end", t("endChat"));
    endBtn.type = "button";
    tools.appendChild(saveBtn);
    tools.appendChild(endBtn);
    var confirmBox = el("div", "kat-confirm");
    confirmBox.setAttribute("role", "group");
    confirmBox.setAttribute("aria-labelledby", "kat-confirm-text");
    confirmBox.hidden = true;
    var confirmText = el("p", "kat-confirm-text", t("endConfirm"));
    confirmText.id = "kat-confirm-text";
    var confirmYes = el("button", "kat-confirm-yes", t("endConfirmYes"));
    confirmYes.type = "button";
    var confirmNo = el("button", "kat-confirm-no", t("endConfirmNo"));
    confirmNo.type = "button";
    confirmBox.appendChild(confirmText);
    confirmBox.appendChild(confirmYes);
    confirmBox.appendChild(confirmNo);

    // "Keep this chat on this device": off by default (devices are shared).
    var keepRow = el("div", "kat-keep");
    var keepBox = el("input", "kat-keep-box");
    keepBox.type = "checkbox";
    keepBox.id = "kat-keep";
    keepBox.setAttribute("aria-describedby", "kat-keep-hint");
    var keepLabel = el("label", "kat-keep-label", t("keep"));
    keepLabel.htmlFor = "kat-keep";
    var keepHint = el("p", "kat-keep-hint");
    keepHint.id = "kat-keep-hint";
    keepRow.appendChild(keepBox);
    keepRow.appendChild(keepLabel);
    keepRow.appendChild(keepHint);

    var status = el("p", "kat-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");

    // While a hand-off is open for this conversation (the server says so: handoff_status).
    var handoffLine = el("p", "kat-handoff");
    handoffLine.setAttribute("role", "status");
    handoffLine.setAttribute("aria-live", "polite");
    handoffLine.hidden = true;

    var log = el("div", "kat-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-relevant", "additions");
    log.setAttribute("aria-label", t("logLabel"));
    log.tabIndex = 0;

    var typing = el("p", "kat-typing", t("typing"));
    typing.hidden = true;

    var form = el("form", "kat-form");
    form.setAttribute("aria-label", t("formLabel"));
    var label = el("label", "kat-visually-hidden", t("inputLabel"));
    label.htmlFor = "kat-input";
    var input = el("textarea", "kat-input");
    input.id = "kat-input";
    input.rows = 1;
    input.maxLength = MAX_INPUT;
    input.autocomplete = "off";
    input.placeholder = t("placeholder");
    var sendBtn = el("button", "kat-send", t("send"));
    sendBtn.type = "submit";
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(sendBtn);

    var footer = el("footer", "kat-footer");
    var humanBtn = el("button", "kat-human", t("talkToPerson"));
    humanBtn.type = "button";
    fill(footer, "footer", {
      emergency: link(telHref(cfg.emergencyNumber), cfg.emergencyNumber),
      crisis: link(telHref(cfg.crisisLine), cfg.crisisLine),
      person: humanBtn,
    });

    [header, tools, confirmBox, keepRow, status, handoffLine, log, typing, form, footer]
      .forEach(function (n) { panel.appendChild(n); });
    root.appendChild(launcher);
    root.appendChild(announcer);
    root.appendChild(panel);

    // --- messages ----------------------------------------------------------------------------
    var nodes = {}; // message id -> element

    function renderMessage(msg) {
      var node = el("div", "kat-msg kat-msg-" + msg.from + (msg.staff ? " kat-msg-staff" : ""));
      if (msg.staff) {
        // From a person at the clinic (the server marks it), not from the assistant.
        node.appendChild(el("span", "kat-staff-label", t("staffLabel")));
      } else {
        var who = { bot: t("whoAssistant"), user: t("whoYou"), system: t("whoNote") }[msg.from] || "";
        node.appendChild(el("span", "kat-visually-hidden", who));
      }
      if (msg.from === "system" && Array.isArray(msg.parts)) {
        msg.parts.forEach(function (part) {
          if (typeof part === "string") { node.appendChild(document.createTextNode(part)); }
          else if (part && safeHref(part.href)) { node.appendChild(link(safeHref(part.href), part.text)); }
        });
      } else {
        appendLinkified(node, String(msg.text || ""));
      }
      if (msg.pending) {
        node.appendChild(el("span", "kat-pending-note", t("pending")));
      }
      nodes[msg.id] = node;
      log.appendChild(node);
      var buttons = msg.buttons || [];
      var choices = buttons.filter(function (b) { return !isFeedback(b); });
      var ratings = buttons.filter(isFeedback);
      if (choices.length) {
        var group = el("div", "kat-replies");
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", t("repliesLabel"));
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
        rate.setAttribute("aria-label", t("feedbackLabel"));
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

    function clearLog() {
      Object.keys(nodes).forEach(function (id) { delete nodes[id]; });
      while (log.firstChild) { log.removeChild(log.firstChild); }
    }

    function addSystem(parts) { addMessage({ from: "system", parts: parts }); }

    // --- keeping this chat on this device ------------------------------------------------------
    function showKeepChoice() {
      var hours = state.keepHours || cfg.historyHours;
      keepRow.hidden = state.keepHours === 0;
      keepHint.textContent = hours ? t("keepHint", { hours: hours }) : "";
      keepBox.checked = !!state.keep;
    }
    function startKeeping() {
      state.keep = true;
      save();
      if (ready && socket && socket.connected) { socket.emit("keep_request", {}); }
      // offline: the next session_request asks for a keep token ("keep": true)
      announcer.textContent = t("keepOn", { hours: state.keepHours || cfg.historyHours || "" });
    }
    // Unticked: the server refuses the keep tokens issued so far (keep_withdraw), or is
    // told on the next connect (withdrawPending).
    var withdrawPending = false;
    function withdrawKeep() {
      if (ready && socket && socket.connected) { socket.emit("keep_withdraw", {}); }
      else { withdrawPending = true; }
    }
    function stopKeeping(announce) {
      state.keep = false;
      state.kept = null;
      clearTimeout(expiryTimer);
      removeKept();
      save();
      keepBox.checked = false;
      if (announce) { announcer.textContent = t("keepOff"); }
    }
    function onKeepToken(data) {
      if (!data || typeof data !== "object") { return; }
      if (typeof data.keep_hours === "number") { state.keepHours = data.keep_hours; }
      if (state.keepHours === 0) { stopKeeping(false); showKeepChoice(); return; }
      if (state.keep && state.session && typeof data.keep_token === "string" &&
          typeof data.keep_until === "number") {
        state.kept = { session_id: state.session.session_id, keep_token: data.keep_token, keep_until: data.keep_until };
      }
      save();
      showKeepChoice();
    }

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
      // As "parts" (text and links) so a kept copy is shown the same way later.
      var holder = document.createElement("span");
      var tel = cfg.clinicPhone && telHref(cfg.clinicPhone);
      var phone = document.createElement("span");
      if (tel) { fill(phone, "unreachablePhone", { number: link(tel, String(cfg.clinicPhone)) }); }
      else { phone.textContent = t("unreachableNoPhone"); }
      fill(holder, "unreachable", {
        phone: phone,
        hours: cfg.clinicHours ? t("unreachableHours", { hours: String(cfg.clinicHours) }) : "",
        emergency: link(telHref(cfg.emergencyNumber), cfg.emergencyNumber),
        crisis: link(telHref(cfg.crisisLine), cfg.crisisLine),
      });
      var parts = [];
      (function walk(node) {
        Array.prototype.forEach.call(node.childNodes, function (child) {
          if (child.nodeType === 3) { if (child.nodeValue) { parts.push(child.nodeValue); } }
          else if (child.tagName === "A") { parts.push({ href: child.getAttribute("href"), text: child.textContent }); }
          else { walk(child); }
        });
      })(holder);
      return parts;
    }

    function offline() {
      ready = false;
      hideTyping();
      setStatus(cfg.clinicPhone ? t("reconnectingPhone", { phone: cfg.clinicPhone }) : t("reconnecting"));
    }

    function emitMessage(text) {
      socket.emit("user_uttered", { message: text });
      showTyping();
      // Each message moves the kept copy's expiry on (web_history_hours after the last one).
      if (state.keep) { socket.emit("keep_request", {}); }
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
      if (data.kat_forget_device === true) { forgetDevice(); return; } // domain.yml utter_forgotten
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
      var msg = { from: "bot", text: text, buttons: buttons.length ? buttons : undefined };
      if (data.from === "staff") { msg.staff = true; }
      addMessage(msg);
      if (!state.open && state.messages.some(function (m) { return m.from === "user"; })) {
        setUnread((state.unread || 0) + 1, true);
      }
      askHandoff(HANDOFF_AFTER_MESSAGE_MS);
    }

    // "Forget me" done on the clinic's side (utter_forgotten's socket.io variant carries
    // kat_forget_device): this device forgets too — the kept copy, the box ticked, every
    // earlier message — and keeps only that last reply. The session stays, so a staff
    // reply on a ticket that stays open still arrives here.
    function forgetDevice() {
      if (awaitingFresh) { return; }
      var last = null;
      for (var i = state.messages.length - 1; i >= 0; i--) {
        if (state.messages[i].from === "bot") { last = state.messages[i]; break; }
      }
      var keep = { session: state.session, open: state.open, keepHours: state.keepHours, unread: state.unread };
      stopKeeping(false);
      clearLog();
      state = freshState(keep.open);
      state.session = keep.session;
      state.keepHours = keep.keepHours;
      state.unread = keep.unread;
      var tab = store("sessionStorage");
      try { if (tab) { tab.removeItem(KEY); } } catch (e) { /* storage off */ }
      if (last) { addMessage({ from: "bot", text: last.text, staff: last.staff || undefined }); }
      addSystem([t("forgotDevice")]);
      showKeepChoice();
    }

    // --- waiting for a person: the server reads the hand-off store ---------------------------
    var handoffTimer = null;
    function askHandoff(delay) {
      clearTimeout(handoffTimer);
      handoffTimer = setTimeout(function () {
        if (ready && socket && socket.connected) { socket.emit("handoff_status", { language: LANG }); }
      }, delay);
    }
    function setHandoff(text) {
      if (!text) {
        handoffLine.hidden = true;
        handoffLine.textContent = "";
        return;
      }
      if (handoffLine.textContent !== text) { handoffLine.textContent = text; } // said once
      handoffLine.hidden = false;
    }
    function onHandoffStatus(data) {
      if (!data || typeof data !== "object" || typeof data.open !== "boolean") { return; } // unknown
      if (awaitingFresh) { return; } // about the conversation just ended
      if (!data.open) { setHandoff(""); return; }
      if (data.urgent) {
        setHandoff(t("handoffUrgent", { emergency: cfg.emergencyNumber, crisis: cfg.crisisLine }));
      } else if (typeof data.reply_time === "string" && data.reply_time) {
        setHandoff(t("handoffWaiting", { time: data.reply_time }));
      } else {
        setHandoff(t("handoffWaitingNoTime"));
      }
      askHandoff(HANDOFF_POLL_MS); // until staff close it
    }

    // --- unread count (while minimised) ------------------------------------------------------
    var TITLE_PREFIX = /^\(\d+\) /;
    function setUnread(count, announce) {
      state.unread = count;
      save();
      var base = document.title.replace(TITLE_PREFIX, "");
      if (count > 0) {
        var words = count === 1 ? t("unreadOne") : t("unreadMany", { count: count });
        badge.textContent = String(count);
        badge.hidden = false;
        launcher.setAttribute("aria-label", t("launcherUnread", { launcher: LAUNCHER_TEXT, unread: words }));
        document.title = "(" + count + ") " + base;
        if (announce) { announcer.textContent = t("unreadAnnounce", { unread: words }); }
      } else {
        badge.textContent = "";
        badge.hidden = true;
        launcher.removeAttribute("aria-label");
        if (document.title !== base) { document.title = base; }
        announcer.textContent = "";
      }
    }

    // --- transcript: plain text made here, nothing sent anywhere ------------------------------
    function transcriptLine(m) {
      var who, text = String(m.text || "");
      if (m.from === "user") { who = t("transcriptYou"); }
      else if (m.from === "bot") {
        var staff = STAFF_RE.exec(text);
        if (staff) {
          who = staff[1] ? t("transcriptStaffNamed", { name: staff[1] }) : t("transcriptStaff");
          text = text.slice(staff[0].length);
        } else { who = m.staff ? t("transcriptStaff") : t("transcriptAssistant"); }
      } else {
        who = t("transcriptNote");
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
      var when = { date: day, time: pad(now.getHours()) + ":" + pad(now.getMinutes()), clinic: clinic };
      var lines = [clinic ? t("transcriptHeaderNamed", when) : t("transcriptHeader", when), ""];
      state.messages.forEach(function (m) { lines.push(transcriptLine(m)); });
      var blob = new Blob([lines.join("\n") + "\n"], { type: "text/plain;charset=utf-8" });
      var url = URL.createObjectURL(blob);
      var a = document.createElement("a");
      a.href = url;
      a.download = t("transcriptFile", { date: day });
      a.hidden = true;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      announcer.textContent = t("transcriptSaved");
    }

    // --- end chat: forget this conversation on this device, start a new session --------------
    // The server refuses an ended session's tokens from then on (kat/web_revocations.py):
    // "end": true in the next session_request, or, when End chat was pressed offline, the
    // ended session with its token, sent on the next connect (pendingEnd, in memory only).
    var awaitingFresh = false;
    var pendingEnd = null;
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
      clearLog();
      input.value = "";
      var keepHours = state.keepHours;
      var ended = state.session
        ? { session_id: state.session.session_id, resume_token: state.session.resume_token }
        : (state.kept ? { session_id: state.kept.session_id, keep_token: state.kept.keep_token, keep_until: state.kept.keep_until } : null);
      state = freshState(true);
      state.keepHours = keepHours;
      clearTimeout(expiryTimer);
      try {
        [store("sessionStorage"), store("localStorage")].forEach(function (s) {
          if (!s) { return; }
          Object.keys(s).forEach(function (k) {
            if (k.indexOf("kat-chat:") === 0) { s.removeItem(k); }
          });
        });
      } catch (e) { /* storage off: nothing kept anyway */ }
      showKeepChoice();
      setHandoff("");
      setUnread(0, false);
      save();
      if (socket && socket.connected) {
        ready = false;
        awaitingFresh = true;
        pendingEnd = null;
        socket.emit("session_request", { end: true });
      } else { // offline: the next connect asks for a new session (state.session is null)
        pendingEnd = ended;
      }
      announcer.textContent = t("endDone");
      input.focus();
    }

    function sessionRequest() {
      var s = state.session, k = state.kept;
      var payload = s ? { session_id: s.session_id, resume_token: s.resume_token }
        : (k ? { session_id: k.session_id, keep_token: k.keep_token, keep_until: k.keep_until } : {});
      if (state.keep) { payload.keep = true; }
      if (pendingEnd) { payload = { end: pendingEnd }; }
      if (withdrawPending && s) { payload.withdraw_keep = true; }
      return payload;
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
        socket.emit("session_request", sessionRequest());
      });
      socket.on("session_confirm", function (data) {
        if (!data || typeof data.session_id !== "string") { return; }
        awaitingFresh = false;
        pendingEnd = null;
        withdrawPending = false;
        var had = state.session ? state.session.session_id : (state.kept && state.kept.session_id);
        if (had && had !== data.session_id) {
          if (!state.session) {
            // The kept copy was refused (expired on the server too): it goes, unread.
            clearLog();
            var keepHours = state.keepHours;
            state = freshState(state.open);
            state.keepHours = keepHours;
            removeKept();
            showKeepChoice();
          } else {
            addSystem([t("newSession")]);
          }
        }
        state.session = { session_id: data.session_id, resume_token: data.resume_token };
        ready = true;
        setStatus("");
        onKeepToken(data);
        save();
        var fresh = !state.messages.some(function (m) { return m.from !== "system"; });
        var hello = cfg.initPayload === undefined ? t("greetPayload") : cfg.initPayload;
        if (fresh && hello) { emitMessage(hello); }
        flushPending();
        askHandoff(0);
      });
      socket.on("keep_confirm", onKeepToken);
      socket.on("bot_uttered", onBotMessage);
      socket.on("handoff_status", onHandoffStatus);
      socket.on("disconnect", offline);
      socket.on("connect_error", offline);
    }

    function loadClient(done) {
      if (typeof window.io === "function") { done(); return; }
      var tag = document.createElement("script");
      tag.src = BASE + "vendor/socket.io.min.js";
      tag.onload = done;
      tag.onerror = function () { setStatus(t("loadFailed")); };
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
      if (ready && socket && socket.connected) { sendUser("/request_human", t("talkToPerson")); }
      else { addSystem(reachAPerson()); }
    });
    keepBox.addEventListener("change", function () {
      if (keepBox.checked) { startKeeping(); } else { stopKeeping(true); withdrawKeep(); }
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

    var link_ = document.createElement("link");
    link_.rel = "stylesheet";
    link_.href = BASE + "widget.css";
    link_.onload = function () { log.scrollTop = log.scrollHeight; };
    document.head.appendChild(link_);
    document.body.appendChild(root);
    state.messages.forEach(renderMessage);
    input.value = state.draft || "";
    showKeepChoice();
    if (state.keep && state.kept) { scheduleExpiry(state.kept.keep_until * 1000); }
    setOpen(state.open !== false, false);
    if (state.open === false && state.unread > 0) { setUnread(state.unread, false); }
    setStatus(t("connecting"));
    loadClient(connect);
  }

  function start() { loadStrings(LANG, main); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
