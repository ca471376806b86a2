// The XOOBAY agent console: log in, the live queue with SLA countdowns, a ticket's
// transcript, reply (with canned replies), transfer and close. It talks to the agent API
// at /api/v1/agent. Every text from the server is shown with textContent, never as HTML.
"use strict";

const API = "/api/v1/agent";
// The live stream (GET /events) says when a ticket changed; the queue is read again then,
// shortly after (a change is published just before it is committed). Polling stays as
// the fallback for a stream that is down, and keeps SLA figures fresh.
const POLL_MS = 30000;
const SETTLE_MS = 250;
const RETRY_MS = 1000;
const RETRY_MAX_MS = 30000;
const state = { token: sessionStorage.getItem("agentToken"), agent: null, tickets: [],
  offset: 0, current: null, timer: null, ticker: null, stream: null, soon: null,
  retryMs: RETRY_MS, retry: null };

const $ = (id) => document.getElementById(id);

function text(element, value) {
  element.textContent = value == null ? "" : String(value);
  return element;
}

function make(tag, className, value) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (value !== undefined) text(element, value);
  return element;
}

async function call(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && path !== "/login") {
    loggedOut();
    throw new Error("Your session has ended. Please log in again.");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error((data.error && data.error.message) || "Request failed (" + response.status + ")");
  }
  return data;
}

function countdown(deadline) {
  const ms = new Date(deadline).getTime() - (Date.now() + state.offset);
  const minutes = Math.floor(Math.abs(ms) / 60000);
  const hours = Math.floor(minutes / 60);
  const span = hours ? hours + " h " + (minutes % 60) + " min" : minutes + " min";
  return ms < 0 ? { label: "overdue " + span, overdue: true } : { label: "in " + span, overdue: false };
}

function renderQueue() {
  const body = $("queue").querySelector("tbody");
  body.replaceChildren();
  for (const ticket of state.tickets) {
    const row = make("tr");
    row.dataset.ticket = String(ticket.id);
    if (state.current === ticket.id) row.classList.add("selected");
    row.append(
      make("td", "", ticket.id),
      make("td", "priority-" + ticket.priority, ticket.priority),
      make("td", "", ticket.language),
      make("td", "", ticket.status),
    );
    const due = countdown(ticket.sla_deadline);
    row.append(make("td", "sla" + (due.overdue ? " overdue" : ""), due.label));
    row.addEventListener("click", () => openTicket(ticket.id));
    body.append(row);
  }
  $("queue-empty").hidden = state.tickets.length > 0;
}

function tickCountdowns() {
  for (const row of $("queue").querySelectorAll("tbody tr")) {
    const ticket = state.tickets.find((t) => String(t.id) === row.dataset.ticket);
    if (!ticket) continue;
    const cell = row.querySelector(".sla");
    const due = countdown(ticket.sla_deadline);
    text(cell, due.label);
    cell.classList.toggle("overdue", due.overdue);
  }
}

async function refresh() {
  try {
    const data = await call("GET", "/queue");
    state.offset = new Date(data.now).getTime() - Date.now();
    state.tickets = data.tickets;
    renderQueue();
    text($("queue-error"), "");
    if (state.current !== null) await loadTicket(state.current);
  } catch (error) {
    text($("queue-error"), error.message);
  }
}

function refreshSoon() {
  clearTimeout(state.soon);
  state.soon = setTimeout(refresh, SETTLE_MS);
}

// -- the live stream: fetch() rather than EventSource, so the token stays in a header --
function stopStream() {
  clearTimeout(state.retry);
  state.retry = null;
  if (state.stream) {
    clearTimeout(state.stream.watchdog);
    state.stream.controller.abort();
  }
  state.stream = null;
}

function listenLater() {
  if (state.retry || !state.token) return;
  state.retry = setTimeout(() => { state.retry = null; listen(); }, state.retryMs);
  state.retryMs = Math.min(state.retryMs * 2, RETRY_MAX_MS);
}

async function listen() {
  stopStream();
  if (!state.token) return;
  const current = { controller: new AbortController(), watchdog: null, heartbeat: 30 };
  state.stream = current;
  const alive = () => {
    clearTimeout(current.watchdog);
    // silent for three heartbeats: the connection is dead
    current.watchdog = setTimeout(() => current.controller.abort(), current.heartbeat * 3000);
  };
  alive();
  try {
    const response = await fetch(API + "/events", {
      headers: { "Authorization": "Bearer " + state.token, "Accept": "text/event-stream" },
      signal: current.controller.signal, cache: "no-store",
    });
    if (response.status === 401) {
      loggedOut();
      return;
    }
    if (!response.ok || !response.body) throw new Error("stream refused: " + response.status);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      alive();
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        onEvent(current, buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (error) {
    /* reconnected below */
  }
  clearTimeout(current.watchdog);
  if (state.stream === current) {
    state.stream = null;
    listenLater();
  }
}

function onEvent(current, block) {
  let kind = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) kind = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (!data.length) return;  // a ping
  let event;
  try {
    event = JSON.parse(data.join("\n"));
  } catch (error) {
    return;
  }
  if (kind === "ready") {
    current.heartbeat = Number(event.heartbeat) || current.heartbeat;
    state.retryMs = RETRY_MS;
    refreshSoon();  // whatever changed while the stream was down
  } else if (kind === "ticket") {
    refreshSoon();
  } else if (kind === "ended") {
    loggedOut();
  }
}

function renderTicket(detail) {
  const ticket = detail.ticket;
  const mine = ticket.agent_id === state.agent.id &&
    (ticket.status === "assigned" || ticket.status === "waiting_customer");
  $("ticket").hidden = false;
  text($("ticket-id"), ticket.id);
  text($("ticket-language"), ticket.language);
  text($("ticket-priority"), ticket.priority);
  text($("ticket-status"), ticket.status + (ticket.agent_name ? " (" + ticket.agent_name + ")" : ""));
  text($("ticket-reason"), ticket.reason);
  text($("ticket-intent"), ticket.summary.intent || "-");
  text($("ticket-order"), ticket.summary.order_number || "-");
  const closed = ticket.status === "resolved" || ticket.status === "cancelled";
  text($("ticket-sla"), closed ? "closed" : countdown(ticket.sla_deadline).label);
  $("claim").hidden = ticket.status !== "queued";
  $("actions").hidden = !mine;
  const list = $("transcript");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.replaceChildren();
  for (const message of detail.messages) {
    const item = make("li", message.sender);
    item.append(make("span", "from", message.sender + (message.language ? " · " + message.language : "")));
    item.append(document.createTextNode(message.text));
    list.append(item);
  }
  if (atBottom) list.scrollTop = list.scrollHeight;
  const canned = $("canned");
  if (canned.dataset.ticket !== String(ticket.id)) {
    canned.dataset.ticket = String(ticket.id);
    canned.replaceChildren();
    for (const reply of detail.canned) {
      const button = make("button", "canned", reply);
      button.type = "button";
      button.addEventListener("click", () => { $("reply-text").value = reply; $("reply-text").focus(); });
      canned.append(button);
    }
  }
}

async function loadTicket(id) {
  try {
    renderTicket(await call("GET", "/tickets/" + id));
  } catch (error) {
    text($("ticket-error"), error.message);
  }
}

async function openTicket(id) {
  state.current = id;
  text($("ticket-error"), "");
  renderQueue();
  await loadTicket(id);
}

async function act(method, path, body, onDone) {
  text($("ticket-error"), "");
  try {
    const result = await call(method, path, body);
    if (onDone) onDone(result);
  } catch (error) {
    text($("ticket-error"), error.message);
  }
  await refresh();
}

function loggedIn(agent) {
  state.agent = agent;
  $("login").hidden = true;
  $("desk").hidden = false;
  $("who").hidden = false;
  text($("agent-name"), agent.name);
  text($("agent-languages"), agent.languages.join(", "));
  refresh();
  clearInterval(state.timer);
  clearInterval(state.ticker);
  state.timer = setInterval(refresh, POLL_MS);
  state.ticker = setInterval(tickCountdowns, 1000);
  state.retryMs = RETRY_MS;
  listen();
}

function loggedOut() {
  state.token = null;
  state.agent = null;
  state.current = null;
  sessionStorage.removeItem("agentToken");
  stopStream();
  clearTimeout(state.soon);
  clearInterval(state.timer);
  clearInterval(state.ticker);
  $("login").hidden = false;
  $("desk").hidden = true;
  $("who").hidden = true;
  $("ticket").hidden = true;
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  text($("login-error"), "");
  try {
    const data = await call("POST", "/login",
      { login: $("login-name").value, password: $("login-password").value });
    state.token = data.token;
    sessionStorage.setItem("agentToken", data.token);
    $("login-password").value = "";
    loggedIn(data.agent);
  } catch (error) {
    text($("login-error"), error.message);
  }
});

$("logout").addEventListener("click", async () => {
  try { await call("POST", "/logout"); } catch (error) { /* logged out either way */ }
  loggedOut();
});

$("take-next").addEventListener("click", async () => {
  text($("queue-error"), "");
  try {
    const ticket = await call("POST", "/tickets/next");
    await refresh();
    await openTicket(ticket.id);
  } catch (error) {
    text($("queue-error"), error.message);
  }
});

$("claim").addEventListener("click", () =>
  act("POST", "/tickets/" + state.current + "/claim", undefined));

$("reply").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = { text: $("reply-text").value };
  act("POST", "/tickets/" + state.current + "/messages", body, () => { $("reply-text").value = ""; });
});

$("transfer").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = { agent: $("transfer-agent").value || null, language: $("transfer-language").value || null };
  act("POST", "/tickets/" + state.current + "/transfer", body, () => { $("transfer-agent").value = ""; });
});

$("close").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = { note: $("close-note").value };
  act("POST", "/tickets/" + state.current + "/close", body, () => { $("close-note").value = ""; });
});

if (state.token) {
  call("GET", "/me").then(loggedIn).catch(() => loggedOut());
}
