/*
 * Chat widget for the liver calcification assistant (Rasa socket.io channel).
 *
 * The source of the embed: `make widget` bundles it with socket.io-client into
 * webchat/dist/widget.js (build.mjs). Embed with one tag; the config is JSON in
 * data-config (all keys optional):
 *   <script src="https://clinic.example/chat/widget.js" defer crossorigin="anonymous" integrity="sha384-..."
 *           data-config='{"server": "https://clinic.example:5005", "title": "Questions about a liver spot",
 *                         "language": "en", "colors": {"primary": "#0b5394"}}'></script>
 *
 *   server       the Rasa server (default http://localhost:5005); socketPath: its socket.io path
 *   title        the chat's heading
 *   language     the widget's lang attribute and the assistant's first language (en, zh); each
 *                message's own language wins after that (sent to Rasa as message metadata)
 *   colors       primary, onPrimary (text on primary), alert, alertBackground; any CSS colour.
 *                Checked against WCAG AA contrast at start: a console warning names a pair too faint
 *   strings      replacements for the texts of STRINGS below (other languages)
 *   initPayload  sent unseen when a conversation starts (default "/greet"); "" for none
 *
 * widget.css is loaded from next to this file, with the integrity hash that the
 * build compiled in (WIDGET_CSS_INTEGRITY). The widget lives in a shadow root so
 * that the clinic page's styles and ours cannot clash.
 */
import { io } from "socket.io-client";

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
  staff: "Clinic team",
  warning: "Warning",
  replies: "Suggested replies",
  typing: "The assistant is typing",
  connecting: "Connecting…",
  reconnecting: "Connection lost. Reconnecting…",
  summary: "Save or print this chat",
  summaryTitle: "Your chat about a liver spot",
  summaryDate: "Date:",
  summaryIntro: "Your questions and the assistant's answers, to take to your doctor. The answers are general facts, not a diagnosis.",
  summaryQuestion: "You asked:",
  summaryCheck: "About your own result",
  summaryEmpty: "You have not asked a question yet.",
  summaryPrint: "Print or save as PDF",
  summaryBlocked: "The browser blocked the summary window. Allow pop-ups for this page, then try again.",
};
// colors keys -> CSS custom properties of widget.css
const COLOR_VARS = {
  primary: "--lc-primary",
  onPrimary: "--lc-on-primary",
  alert: "--lc-alert",
  alertBackground: "--lc-alert-bg",
};
// The text/background pairs of widget.css that a clinic's colours change.
const CONTRAST_PAIRS = [
  ["--lc-on-primary", "--lc-primary", "the launcher, the header, your messages, the Send button"],
  ["--lc-primary", "--lc-surface", "the suggested replies"],
  ["--lc-alert", "--lc-alert-bg", "the warning's label"],
  ["--lc-text", "--lc-alert-bg", "the warning's text"],
  ["--lc-alert", "--lc-surface", "the connection status"],
];
const MIN_CONTRAST = 4.5;  // WCAG 2.1 AA, normal-size text
const KEPT_MESSAGES = 200;
// The typing indicator shows from a question until no reply came for
// REPLIES_DONE_MS (an answer is several messages), or REPLY_WAIT_MS at most.
const REPLIES_DONE_MS = 700;
const REPLY_WAIT_MS = 20000;

// A page's broken config must not take the chat away: warn, and use the defaults.
function parseConfig(text) {
  let given = {};
  try {
    given = JSON.parse(text || "{}");
  } catch (error) {
    console.warn("chat widget: data-config is not JSON; using the defaults");
  }
  const config = Object.assign({}, DEFAULTS);
  for (const [key, value] of Object.entries(given && typeof given === "object" ? given : {})) {
    const fits = typeof value === typeof DEFAULTS[key] && value !== null && !Array.isArray(value);
    if (fits) config[key] = value;
    else console.warn(`chat widget: data-config "${key}" is unknown or not a ${typeof DEFAULTS[key]}; ignored`);
  }
  return config;
}

const config = parseConfig(script.dataset.config);
const strings = Object.assign({}, STRINGS, config.strings);
const storageKey = "liver-chat:" + config.server;

// {sessionId, open, messages: [{from: "user"|"bot", text, at, buttons?, alert?, citation?, check?, staff?}]}
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
    node.onerror = () => reject(new Error("chat widget: could not load " + node.href));
  });
}

// ---- the page -------------------------------------------------------------

// crossorigin: a stylesheet with an integrity hash from another origin must come by CORS.
const stylesheet = el("link", { rel: "stylesheet", href: new URL("widget.css", base), integrity: WIDGET_CSS_INTEGRITY, crossorigin: "anonymous" });
const log = el("div", { class: "lc-log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0", "aria-label": strings.conversation });
const typing = el("div", { class: "lc-typing", hidden: "", "aria-hidden": "true" },
  [el("span", { class: "lc-dot" }), el("span", { class: "lc-dot" }), el("span", { class: "lc-dot" }),
    el("span", { text: strings.typing })]);
const status = el("p", { class: "lc-status", role: "status" });
// A warning is marked after its text is already in the log: this region says it again, at once.
const announcer = el("p", { class: "lc-hidden", role: "alert" });
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
    // Named by its text, not aria-label: the name then holds what is seen (WCAG 2.5.3), "×" being a symbol.
    el("button", { type: "button", class: "lc-close", onclick: () => setOpen(false) },
      [el("span", { "aria-hidden": "true", text: "×" }), el("span", { class: "lc-hidden", text: strings.close })]),
  ]),
  log, typing, status, announcer, form,
  el("button", { type: "button", class: "lc-summary-open", text: strings.summary, onclick: openSummary }),
]);
const root = el("div", { class: "lc-root", lang: config.language }, [panel, launcher]);
for (const [key, value] of Object.entries(config.colors)) {
  if (!COLOR_VARS[key]) continue;
  if (typeof value === "string" && CSS.supports("color", value)) root.style.setProperty(COLOR_VARS[key], value);
  else console.warn(`chat widget: colors.${key} is not a CSS colour (${JSON.stringify(value)}); using the default`);
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

// ---- colour contrast ------------------------------------------------------

const painter = document.createElement("canvas").getContext("2d");

// [r, g, b, a] (0-255, alpha 0-1) of a CSS colour, or null if it cannot be measured.
// The canvas normalises colours to #rrggbb or rgba(); one it cannot parse leaves
// fillStyle as it was, so two different starting values tell.
function rgba(color) {
  if (!painter) return null;
  const parsed = ["#000000", "#ffffff"].map((start) => {
    painter.fillStyle = start;
    painter.fillStyle = color;
    return painter.fillStyle;
  });
  if (parsed[0] !== parsed[1]) return null;
  const hex = parsed[0].match(/^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i);
  if (hex) return [...hex.slice(1).map((part) => parseInt(part, 16)), 1];
  const rgb = parsed[0].match(/^rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)$/);
  return rgb ? [+rgb[1], +rgb[2], +rgb[3], rgb[4] === undefined ? 1 : +rgb[4]] : null;
}

function over(top, bottom) {
  return [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
}

function luminance(color) {
  const [r, g, b] = color.slice(0, 3).map((value) => {
    const c = value / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a, b) {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

// The panel's colours as widget.css and the clinic's config set them (the widget sits on white).
function checkContrast() {
  const style = getComputedStyle(root);
  const white = [255, 255, 255, 1];
  for (const [text, background, where] of CONTRAST_PAIRS) {
    const [fg, bg] = [text, background].map((name) => style.getPropertyValue(name).trim());
    const [fgColor, bgColor] = [rgba(fg), rgba(bg)];
    if (!fgColor || !bgColor) continue;
    const backdrop = over(bgColor, white);
    const ratio = contrast(over(fgColor, backdrop), backdrop);
    if (ratio < MIN_CONTRAST) {
      console.warn(`chat widget: colors: ${fg} on ${bg} (${where}) has a contrast of ${ratio.toFixed(2)}:1, `
        + `below the ${MIN_CONTRAST}:1 of WCAG AA; patients with poor sight may not read it`);
    }
  }
}

// ---- messages -------------------------------------------------------------

function markAlert(node) {
  node.classList.add("lc-alert");
  node.prepend(el("strong", { class: "lc-alert-label", text: strings.warning }));
}

// A message from the clinic team: its label ("Clinic team · Ana") is seen and read first.
function staffLabel(staff) {
  return staff.name ? `${strings.staff} · ${staff.name}` : strings.staff;
}

// Server text always goes in with textContent (via el's "text"), never as HTML.
function render(message) {
  const who = message.staff
    ? el("strong", { class: "lc-staff-label", text: staffLabel(message.staff) })
    : el("span", { class: "lc-hidden", text: message.from === "user" ? strings.you : strings.assistant });
  const node = el("div", { class: "lc-msg lc-" + message.from + (message.staff ? " lc-staff" : "") }, [
    who,
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
  state.messages.push(Object.assign({ at: Date.now() }, message));
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
  // A staff reply (sent through Rasa's HTTP API, connectors/widget.py): its text with who sent it.
  if (data.custom && data.custom.from === "staff" && typeof data.text === "string") {
    const name = typeof data.custom.name === "string" ? data.custom.name : "";
    add({ from: "bot", text: data.text, staff: { name } });
    return;
  }
  if (data.custom) {
    // A red flag's warning is the text just before {"alert": "red_flag"}.
    // An answer's source line (utter_source_line, in any language) is the text just before {"sources": [...]}.
    // The guided check's summary is every reply to the last answer, up to {"check": {...}}.
    const last = state.messages[state.messages.length - 1];
    if (data.custom.alert && last && last.from === "bot" && !last.alert) {
      last.alert = true;
      markAlert(log.lastElementChild);
      announcer.textContent = `${strings.warning}: ${last.text}`;
    }
    if (data.custom.check) {
      for (let i = state.messages.length - 1; i >= 0 && state.messages[i].from === "bot"; i--) state.messages[i].check = true;
    } else if (data.custom.sources && last && last.from === "bot" && !last.citation) {
      last.citation = true;
      log.lastElementChild.classList.add("lc-citation");
    }
    save();
    return;
  }
  if (typeof data.text !== "string") return;
  add({ from: "bot", text: data.text, buttons: (data.quick_replies || []).map(({ title, payload }) => ({ title, payload })) });
  showTyping(REPLIES_DONE_MS);
}

// ---- the summary to take to the doctor --------------------------------------

// Each question with the replies it got, kept when they hold an answer with its
// source, a warning or the check's summary (not the greeting, "did you mean",
// feedback thanks or the check's own questions). Only the chat's own text: the
// widget adds nothing about the patient.
function exchanges() {
  const groups = [];
  for (const message of state.messages) {
    if (message.from === "user") groups.push({ question: message.text, replies: [] });
    else if (groups.length) groups[groups.length - 1].replies.push(message);
  }
  return groups.filter((group) => group.replies.some((reply) => reply.citation || reply.alert || reply.check));
}

function dateText(time) {
  const options = { year: "numeric", month: "long", day: "numeric" };
  try {
    return new Date(time).toLocaleDateString(config.language, options);
  } catch (error) {  // a language tag the browser refuses
    return new Date(time).toLocaleDateString(undefined, options);
  }
}

function summaryItem(group) {
  const check = group.replies.some((reply) => reply.check);
  return el("section", { class: "lc-summary-item" }, [
    check ? el("h2", { text: strings.summaryCheck })
      : el("h2", {}, [el("span", { class: "lc-summary-asked", text: strings.summaryQuestion + " " }), el("q", { text: group.question })]),
    ...group.replies.map((reply) => reply.alert
      ? el("div", { class: "lc-summary-alert" }, [el("strong", { text: strings.warning }), el("p", { text: reply.text })])
      : el("p", { class: reply.citation ? "lc-summary-source" : "lc-summary-answer", text: reply.text })),
  ]);
}

function openSummary() {
  const view = window.open("", "_blank");
  if (!view) {
    status.textContent = strings.summaryBlocked;
    return;
  }
  const groups = exchanges();
  const times = state.messages.filter((message) => message.at).map((message) => message.at);
  const dates = [...new Set((times.length ? times : [Date.now()]).map(dateText))];
  const doc = view.document;
  doc.documentElement.lang = config.language;
  doc.title = strings.summaryTitle;
  doc.head.append(el("meta", { name: "viewport", content: "width=device-width, initial-scale=1" }),
    el("link", { rel: "stylesheet", href: new URL("widget.css", base), integrity: WIDGET_CSS_INTEGRITY, crossorigin: "anonymous" }));
  doc.body.append(el("main", { class: "lc-summary" }, [
    el("h1", { text: strings.summaryTitle }),
    el("p", { class: "lc-summary-date", text: `${strings.summaryDate} ${dates.join(", ")}` }),
    el("p", { text: strings.summaryIntro }),
    el("button", { type: "button", class: "lc-summary-print", text: strings.summaryPrint, onclick: () => view.print() }),
    ...(groups.length ? groups.map(summaryItem) : [el("p", { text: strings.summaryEmpty })]),
  ]));
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
  socket = io(config.server, { path: config.socketPath, transports: ["websocket"] });
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

function start() {
  const styled = loaded(stylesheet);
  document.body.append(host);
  styled.then(() => {
    checkContrast();
    host.hidden = false;
    show(state.open);  // a reload keeps the panel as it was, without taking the focus
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
