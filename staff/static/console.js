// Live updates for the staff console, by short polling of its JSON endpoints:
// the queue every few seconds, and an open conversation's new messages. The
// server renders (and escapes) every fragment; this file only places it. With
// JavaScript off the pages still work: reload them to see what is new.
"use strict";

const POLL_MS = 3000;

async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401) {
    // The session ended: the sign-in page comes back to this page afterwards.
    window.location.assign("/sign-in?next=" + encodeURIComponent(window.location.pathname));
    throw new Error("signed out");
  }
  if (!response.ok) throw new Error("HTTP " + response.status);
  return response.json();
}

function every(ms, task) {
  const run = () => task().catch(() => {}).finally(() => setTimeout(run, ms));
  setTimeout(run, ms);
}

function liveQueue(queue) {
  const status = document.getElementById("queue-status");
  let shown = null;
  every(POLL_MS, async () => {
    const data = await getJSON(queue.dataset.live);
    if (data.html !== shown) {
      // Replaced only when something changed, and the keyboard focus is put back on the same link.
      const focused = queue.contains(document.activeElement) && document.activeElement.getAttribute("href");
      queue.innerHTML = shown = data.html;
      const again = focused && queue.querySelector('a[href="' + CSS.escape(focused) + '"]');
      if (again) again.focus();
    }
    const text = data.waiting + " waiting.";
    if (status.textContent !== text) status.textContent = text;
    document.title = (data.waiting ? "(" + data.waiting + ") " : "") + "Queue - Liver spot assistant";
  });
}

function liveConversation(history) {
  const details = document.getElementById("details");
  const status = document.getElementById("conversation-status");
  const handBack = document.getElementById("hand-back-form");
  let running = null;
  const update = async () => {
    const data = await getJSON(history.dataset.live + "?after=" + history.dataset.last);
    if (data.html.trim()) history.insertAdjacentHTML("beforeend", data.html);
    history.dataset.last = data.last;
    if (details.dataset.shown !== data.details) details.innerHTML = details.dataset.shown = data.details;
    if (status.textContent.trim() !== data.status) status.textContent = data.status;
    handBack.hidden = !data.waiting;
  };
  // One request at a time: two at once would both add the same new messages.
  const poll = () => running || (running = update().finally(() => { running = null; }));
  every(POLL_MS, poll);
  return poll;
}

function sendReplies(form, poll) {
  const feedback = document.getElementById("reply-feedback");
  const box = form.querySelector("textarea");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    feedback.textContent = "Sending...";
    try {
      const response = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRF-Token": form.elements.csrf_token.value,
        },
        body: JSON.stringify({ text: box.value }),
      });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || "HTTP " + response.status);
      box.value = "";
      feedback.textContent = data.notice;
      await poll();
    } catch (error) {
      feedback.textContent = "Not sent: " + error.message;
    } finally {
      button.disabled = false;
      box.focus();
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const queue = document.getElementById("queue");
  if (queue) liveQueue(queue);
  const history = document.getElementById("history");
  if (history) {
    const poll = liveConversation(history);
    const form = document.getElementById("reply-form");
    if (form) sendReplies(form, poll);
  }
});
