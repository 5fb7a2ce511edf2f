/*
 * Chat widget for the liver calcification assistant (Rasa socket.io channel).
 *
 * Embed with one tag; the config is JSON in data-config (all keys optional):
 *   <script src="https://clinic.example/chat/widget.js" defer
 *           data-config='{"server": "https://clinic.example:5005", "title": "Questions about a liver spot",
 *                         "language": "en", "colors": {"primary": "#0b5394"}}'></script>
 *
 *   server       the Rasa server (default http://localhost:5005); socketPath: its socket.io path
 *   title        the chat's heading
 *   language     the widget's lang attribute and the assistant's first language (en, zh); each
 *                message's own language wins after that (sent to Rasa as message metadata)
 *   colors       primary, onPrimary (text on primary), alert, alertBackground
 *   strings      replacements for the texts of STRINGS below (other languages)
 *   initPayload  sent unseen when a conversation starts (default "/greet"); "" for none
 *
 * widget.css and socket.io-client (vendor/socket.io.min.js) are loaded from
 * next to this file. The widget lives in a shadow root so that the clinic
 * page's styles and ours cannot clash.
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const base = new URL(".", script.src);
  const DEFAULTS = {
    server: "http://localhost:5005",
    socketPath: "/socket.io",
    title: "Questions about a liver spot",
    language: "en",
    initPayload: "/greet",  // so that the assistant speaks first
    colors: {},
    strings: {},
  };
  const STRINGS = {
    open: "Questions? Chat with us",
    close: "Close chat",
    conversation: "Conversation",
    label: "Your question",
    placeholder: "Type your question",
    send: "Send",
    you: "You:",
    assistant: "Assistant:",
    warning: "Warning",
    replies: "Suggested replies",
    typing: "The assistant is typing",
    connecting: "Connecting…",
    reconnecting: "Connection lost. Reconnecting…",
  };
  // colors keys -> CSS custom properties of widget.css
  const COLOR_VARS = {
    primary: "--lc-primary",
    onPrimary: "--lc-on-primary",
    alert: "--lc-alert",
    alertBackground: "--lc-alert-bg",
  };
  const KEPT_MESSAGES = 200;
  // The typing indicator shows from a question until no reply came for
  // REPLIES_DONE_MS (an answer is several messages), or REPLY_WAIT_MS at most.
  const REPLIES_DONE_MS = 700;
  const REPLY_WAIT_MS = 20000;

  const config = Object.assign({}, DEFAULTS, JSON.parse(script.dataset.config || "{}"));
  const strings = Object.assign({}, STRINGS, config.strings);
  const storageKey = "liver-chat:" + config.server;

  // {sessionId, open, messages: [{from: "user"|"bot", text, buttons?, alert?, citation?}]}
  const state = Object.assign({ sessionId: null, open: false, messages: [] },
    JSON.parse(localStorage.getItem(storageKey) || "{}"));

  function save() {
    state.messages = state.messages.slice(-KEPT_MESSAGES);
    localStorage.setItem(storageKey, JSON.stringify(state));
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    node.append(...(children || []));
    return node;
  }

  function loaded(node) {
    return new Promise((resolve, reject) => {
      node.onload = resolve;
      node.onerror = () => reject(new Error("chat widget: could not load " + (node.src || node.href)));
    });
  }

  // ---- the page -------------------------------------------------------------

  const stylesheet = el("link", { rel: "stylesheet", href: new URL("widget.css", base) });
  const log = el("div", { class: "lc-log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0", "aria-label": strings.conversation });
  const typing = el("div", { class: "lc-typing", hidden: "", "aria-hidden": "true" },
    [el("span", { class: "lc-dot" }), el("span", { class: "lc-dot" }), el("span", { class: "lc-dot" }),
      el("span", { text: strings.typing })]);
  const status = el("p", { class: "lc-status", role: "status" });
  const input = el("input", { id: "lc-input", type: "text", autocomplete: "off", placeholder: strings.placeholder });
  const form = el("form", { class: "lc-form", onsubmit: onSubmit }, [
    el("label", { for: "lc-input", class: "lc-hidden", text: strings.label }),
    input,
    el("button", { type: "submit", class: "lc-send", text: strings.send }),
  ]);
  const launcher = el("button", { type: "button", class: "lc-launcher", "aria-controls": "lc-panel", "aria-expanded": "false", text: strings.open, onclick: () => setOpen(!state.open) });
  const panel = el("section", { id: "lc-panel", class: "lc-panel", "aria-labelledby": "lc-title", hidden: "", onkeydown: (event) => event.key === "Escape" && setOpen(false) }, [
    el("header", { class: "lc-header" }, [
      el("h2", { id: "lc-title", text: config.title }),
      el("button", { type: "button", class: "lc-close", "aria-label": strings.close, text: "×", onclick: () => setOpen(false) }),
    ]),
    log, typing, status, form,
  ]);
  const root = el("div", { class: "lc-root", lang: config.language }, [panel, launcher]);
  for (const [key, value] of Object.entries(config.colors)) {
    if (COLOR_VARS[key]) root.style.setProperty(COLOR_VARS[key], value);
  }

  function show(open) {
    state.open = open;
    save();
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      connect();
      log.scrollTop = log.scrollHeight;
    }
  }

  function setOpen(open) {
    show(open);
    (open ? input : launcher).focus();
  }

  // ---- messages -------------------------------------------------------------

  function markAlert(node) {
    node.classList.add("lc-alert");
    node.prepend(el("strong", { class: "lc-alert-label", text: strings.warning }));
  }

  // Server text always goes in with textContent (via el's "text"), never as HTML.
  function render(message) {
    const node = el("div", { class: "lc-msg lc-" + message.from }, [
      el("span", { class: "lc-hidden", text: message.from === "user" ? strings.you : strings.assistant }),
      el("span", { class: "lc-text", text: message.text }),
    ]);
    if (message.citation) node.classList.add("lc-citation");
    if (message.alert) markAlert(node);
    if (message.buttons && message.buttons.length) {
      node.append(el("div", { class: "lc-replies", role: "group", "aria-label": strings.replies },
        message.buttons.map((button) => el("button", { type: "button", class: "lc-reply", text: button.title, onclick: () => { send(button.payload, button.title); input.focus(); } }))));
    }
    return node;
  }

  function add(message) {
    state.messages.push(message);
    save();
    log.append(render(message));
    log.scrollTop = log.scrollHeight;
  }

  let typingTimer = null;
  function showTyping(ms) {
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typing.hidden = true; }, ms);
  }

  function receive(data) {
    if (data.custom) {
      // A red flag's warning is the text just before {"alert": "red_flag"}.
      // An answer's source line (utter_source_line, in any language) is the text just before {"sources": [...]}.
      const last = state.messages[state.messages.length - 1];
      if (data.custom.alert && last && last.from === "bot" && !last.alert) {
        last.alert = true;
        save();
        markAlert(log.lastElementChild);
      }
      if (data.custom.sources && last && last.from === "bot" && !last.citation) {
        last.citation = true;
        save();
        log.lastElementChild.classList.add("lc-citation");
      }
      return;
    }
    if (typeof data.text !== "string") return;
    add({ from: "bot", text: data.text, buttons: (data.quick_replies || []).map(({ title, payload }) => ({ title, payload })) });
    showTyping(REPLIES_DONE_MS);
  }

  // ---- the connection -------------------------------------------------------

  let socket = null;
  let ready = false;  // true once the server confirmed our session (and put us in its room)
  let pending = [];   // messages typed while (re)connecting

  function emit(payload) {
    socket.emit("user_uttered", { session_id: state.sessionId, message: payload, metadata: { language: config.language } });
  }

  function send(payload, shown) {
    if (shown) add({ from: "user", text: shown });
    showTyping(REPLY_WAIT_MS);
    if (ready) emit(payload);
    else pending.push(payload);
  }

  function onSubmit(event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, text);
  }

  function connect() {
    if (socket) return;
    status.textContent = strings.connecting;
    // socket.io-client reconnects on its own after a server restart; every
    // (re)connect asks for the same session again, so the conversation goes on.
    // WebSocket only: Rasa's workers (make run-prod) share no socket.io state, and
    // long-polling's separate requests can reach another worker ("Invalid session").
    socket = window.io(config.server, { path: config.socketPath, transports: ["websocket"] });
    socket.on("connect", () => socket.emit("session_request", { session_id: state.sessionId }));
    socket.on("session_confirm", (sessionId) => {
      const isNew = state.messages.length === 0 && !state.sessionId;
      state.sessionId = sessionId;
      save();
      ready = true;
      status.textContent = "";
      // A payload bypasses Rasa's language detection, so it names the widget's language.
      if (isNew && config.initPayload) send(config.initPayload.includes("{") ? config.initPayload
        : `${config.initPayload}${JSON.stringify({ language: config.language })}`);
      pending.forEach(emit);
      pending = [];
    });
    socket.on("disconnect", () => {
      ready = false;
      status.textContent = strings.reconnecting;
    });
    socket.on("bot_uttered", receive);
  }

  // ---- start ----------------------------------------------------------------

  state.messages.forEach((message) => log.append(render(message)));  // before the log is live: no re-announcing
  const host = el("div", { class: "liver-chat", hidden: "" });
  host.attachShadow({ mode: "open" }).append(stylesheet, root);
  const socketScript = el("script", { src: new URL("vendor/socket.io.min.js", base) });

  function start() {
    const assets = Promise.all([loaded(stylesheet), loaded(socketScript)]);
    document.body.append(host);
    document.head.append(socketScript);
    assets.then(() => {
      host.hidden = false;
      show(state.open);  // a reload keeps the panel as it was, without taking the focus
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
