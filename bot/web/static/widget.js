/*
 * XOOBAY support chat widget. Embed it with one tag:
 *
 *   <script src="https://bot.example/static/widget.js" defer></script>
 *
 * Optional attributes: data-api (the API base, default: /api/v1 beside this script),
 * data-lang (the first language, default: the browser's), data-identity (the signed
 * customer identity as JSON: {"customer_id", "expires", "signature"}; or set
 * window.XOOBAY_CHAT_IDENTITY before this script runs).
 *
 * No framework, no build step. Every text is put into the page with textContent; the
 * widget's labels come from GET {api}/widget/strings (the bot's gettext catalogs).
 * The conversation (id and token) is kept in localStorage, so it survives a reload;
 * later messages (agents) arrive over Server-Sent Events read with fetch(), so the
 * token stays in the Authorization header; after any reconnection the transcript
 * fills what the stream missed.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || window.__xoobayChat) return;
  window.__xoobayChat = true;

  var SCRIPT_URL = new URL(script.src, location.href);
  var API = (script.dataset.api ? new URL(script.dataset.api, location.href) : new URL("/api/v1", SCRIPT_URL))
    .href.replace(/\/+$/, "");
  var STORE_KEY = "xoobay-chat:" + API;
  var RETRY_MAX_MS = 15000;
  var TRANSIENT = {502: true, 503: true, 504: true};  // statuses worth one more try

  var state = load();          // {id, token, language, open}
  var strings = {};            // label key -> text
  var ui = {};                 // elements
  var lastId = 0;              // highest transcript message id shown
  var unsynced = [];           // messages shown live, not yet matched in the transcript
  var stream = null;           // {controller, watchdog}
  var retryMs = 1000;
  var retryTimer = null;
  var waiting = 0;             // requests in flight (typing indicator)
  var starting = null;         // the conversation being created
  var sending = 0;             // messages posted, not answered yet
  var sends = 0;               // messages posted so far (a transcript older than one is stale)
  var syncWanted = false;      // a transcript sync waits for the answers in flight
  var syncedLately = [];       // shown from the transcript: the live event may still come

  // -- storage ----------------------------------------------------------------------------
  function load() {
    try {
      var saved = JSON.parse(localStorage.getItem(STORE_KEY) || "{}");
      return saved && typeof saved === "object" ? saved : {};
    } catch (e) {
      return {};
    }
  }

  function save() {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) { /* private mode: the chat lasts as long as the page */ }
  }

  // -- HTTP -------------------------------------------------------------------------------
  function request(method, path, body, auth) {
    var headers = {Accept: "application/json"};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) headers.Authorization = "Bearer " + state.token;
    return fetch(API + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      mode: "cors",
      credentials: "omit",
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) {
          var error = new Error((json.error && json.error.message) || response.statusText);
          error.status = response.status;
          throw error;
        }
        return json;
      });
    });
  }

  function identity() {
    var raw = script.dataset.identity || window.XOOBAY_CHAT_IDENTITY;
    if (!raw) return null;
    if (typeof raw === "object") return raw;
    try {
      return JSON.parse(raw);
    } catch (e) {
      console.warn("XOOBAY chat: data-identity is not JSON; starting anonymously");
      return null;
    }
  }

  function clientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "m-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  // -- building the widget ----------------------------------------------------------------
  function el(tag, className, attrs) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    return node;
  }

  function build(languages) {
    var host = el("div", "", {id: "xoobay-chat", "data-xoobay-chat": ""});
    var root = host.attachShadow({mode: "open"});
    var css = el("link", "", {rel: "stylesheet", href: new URL("widget.css", SCRIPT_URL).href});
    root.appendChild(css);

    ui.bubble = el("button", "bubble", {type: "button", "aria-expanded": "false",
      "aria-controls": "xoobay-chat-window", "aria-haspopup": "dialog"});
    ui.bubbleIcon = el("span", "bubble-icon", {"aria-hidden": "true"});
    ui.bubble.appendChild(ui.bubbleIcon);

    ui.window = el("section", "window", {id: "xoobay-chat-window", role: "dialog",
      "aria-modal": "false", "aria-labelledby": "xoobay-chat-title"});
    ui.window.hidden = true;

    var header = el("header", "header");
    ui.title = el("h2", "title", {id: "xoobay-chat-title"});
    ui.languageLabel = el("label", "language");
    ui.languageText = el("span", "visually-hidden");
    ui.picker = el("select", "picker");
    languages.forEach(function (language) {
      var option = el("option", "", {value: language.tag, lang: language.tag});
      option.textContent = language.name;
      ui.picker.appendChild(option);
    });
    ui.languageLabel.appendChild(ui.languageText);
    ui.languageLabel.appendChild(ui.picker);
    ui.close = el("button", "close", {type: "button"});
    ui.close.textContent = "\u00d7";
    header.appendChild(ui.title);
    header.appendChild(ui.languageLabel);
    header.appendChild(ui.close);

    ui.status = el("p", "status", {role: "status"});
    ui.status.hidden = true;
    ui.log = el("ol", "log", {role: "log", "aria-live": "polite", "aria-relevant": "additions"});
    ui.typing = el("p", "typing", {"aria-live": "polite"});
    ui.typing.hidden = true;
    ui.quick = el("div", "quick", {role: "group"});
    ui.form = el("form", "composer");
    ui.input = el("textarea", "input", {rows: "1", maxlength: "4000"});
    ui.send = el("button", "send", {type: "submit"});
    ui.form.appendChild(ui.input);
    ui.form.appendChild(ui.send);

    [header, ui.status, ui.log, ui.typing, ui.quick, ui.form].forEach(function (part) {
      ui.window.appendChild(part);
    });
    root.appendChild(ui.window);
    root.appendChild(ui.bubble);
    document.body.appendChild(host);

    ui.bubble.addEventListener("click", function () { ui.window.hidden ? open() : close(); });
    ui.close.addEventListener("click", close);
    ui.window.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    ui.form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit();
    });
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    ui.picker.addEventListener("change", function () {
      // the choice is a message of its own: the bot switches and says so
      var option = ui.picker.options[ui.picker.selectedIndex];
      useLanguage(option.value);
      send(option.textContent, option.value);
    });
  }

  function label() {
    ui.bubble.setAttribute("aria-label", strings.open);
    ui.bubble.title = strings.open;
    ui.title.textContent = strings.title;
    ui.languageText.textContent = strings.language;
    ui.picker.setAttribute("aria-label", strings.language);
    ui.close.setAttribute("aria-label", strings.close);
    ui.close.title = strings.close;
    ui.log.setAttribute("aria-label", strings.messages);
    ui.typing.textContent = strings.typing;
    ui.quick.setAttribute("aria-label", strings.suggestions);
    ui.input.placeholder = strings.placeholder;
    ui.input.setAttribute("aria-label", strings.placeholder);
    ui.send.textContent = strings.send;
    ui.log.querySelectorAll("[data-label]").forEach(function (node) {
      node.textContent = strings[node.getAttribute("data-label")] || node.textContent;
    });
    if (ui.status.dataset.key) ui.status.textContent = strings[ui.status.dataset.key];
  }

  function loadStrings(language) {
    return request("GET", "/widget/strings?lang=" + encodeURIComponent(language || ""));
  }

  function useLanguage(language) {
    if (!language || language === state.language) return;
    state.language = language;
    save();
    ui.picker.value = language;
    loadStrings(language).then(function (answer) {
      if (answer.language !== state.language) return;
      strings = answer.strings;
      label();
    }).catch(function () { /* keep the labels shown */ });
  }

  // -- messages ---------------------------------------------------------------------------
  function render(message) {
    var sender = message.sender === "customer" || message.sender === "agent" ? message.sender : "bot";
    var item = el("li", "message from-" + sender);
    var name = el("span", "sender");
    if (sender === "agent" && message.sender_name) {
      name.textContent = message.sender_name;
    } else {
      var key = sender === "customer" ? "you" : sender === "agent" ? "agent" : "bot";
      name.setAttribute("data-label", key);
      name.textContent = strings[key];
    }
    var text = el("p", "text");
    text.textContent = message.text;
    if (message.language) text.setAttribute("lang", message.language);
    item.appendChild(name);
    item.appendChild(text);
    ui.log.appendChild(item);
    ui.log.scrollTop = ui.log.scrollHeight;
    return item;
  }

  function showLive(message, streamed) {
    var now = Date.now();
    syncedLately = syncedLately.filter(function (entry) { return now - entry.at < 15000; });
    var seen = !streamed ? -1 : syncedLately.findIndex(function (entry) {
      return entry.sender === message.sender && entry.text === message.text;
    });
    if (seen >= 0) {  // the transcript brought it just before its live event
      syncedLately.splice(seen, 1);
      return;
    }
    unsynced.push({sender: message.sender, text: message.text});
    unsynced = unsynced.slice(-50);  // a message never stored is never matched
    render(message);
  }

  function suggest(suggestions) {
    ui.quick.replaceChildren();
    (suggestions || []).forEach(function (suggestion) {
      var button = el("button", "suggestion", {type: "button"});
      button.textContent = suggestion;
      button.addEventListener("click", function () { send(suggestion, null); });
      ui.quick.appendChild(button);
    });
  }

  // Show a label (by key), or a text the server wrote in the customer's language.
  function status(key, text) {
    ui.status.dataset.key = key || "";
    ui.status.textContent = text || (key ? strings[key] : "");
    ui.status.hidden = !key;
  }

  function typing(delta) {
    waiting = Math.max(0, waiting + delta);
    ui.typing.hidden = waiting === 0;
  }

  // Show what the transcript has beyond lastId, skipping what was already shown live.
  // While a message is being answered, its replies come with the answer: sync after it.
  function sync() {
    if (!state.id) return Promise.resolve();
    if (sending) {
      syncWanted = true;
      return Promise.resolve();
    }
    var before = sends;
    return request("GET", "/conversations/" + state.id + "/messages", undefined, true)
      .then(function (answer) {
        if (sending || before !== sends) {
          syncWanted = true;
          return;
        }
        var last = null;
        answer.messages.forEach(function (message) {
          if (message.id <= lastId) return;
          lastId = message.id;
          var shown = unsynced.findIndex(function (entry) {
            return entry.sender === message.sender && entry.text === message.text;
          });
          if (shown >= 0) {
            unsynced.splice(shown, 1);
          } else {
            render(message);
            if (message.direction === "out") {
              syncedLately.push({sender: message.sender, text: message.text, at: Date.now()});
              syncedLately = syncedLately.slice(-20);
            }
          }
          last = message;
        });
        if (last && last.direction === "out" && last.suggestions.length) suggest(last.suggestions);
        if (last && last.language) useLanguage(last.language);
      })
      .catch(function (error) {
        if (error.status === 401 || error.status === 404) forget();
      });
  }

  function forget() {
    stopStream();
    state.id = state.token = undefined;
    save();
  }

  // -- the conversation -------------------------------------------------------------------
  function start() {
    if (state.id) return Promise.resolve();
    if (!starting) {
      starting = create().then(function () { starting = null; }, function (error) {
        starting = null;
        throw error;
      });
    }
    return starting;
  }

  function create() {
    var body = {locale: state.language || navigator.language};
    try {
      body.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) { /* no time zone */ }
    var signed = identity();
    var post = function (withIdentity) {
      var payload = Object.assign({}, body);
      if (withIdentity) payload.identity = signed;
      return request("POST", "/conversations", payload);
    };
    return post(Boolean(signed)).catch(function (error) {
      if (!signed || !error.status || error.status >= 500) throw error;
      status("identity_rejected");  // a 4xx for the identity: go on anonymously
      return post(false);
    }).then(function (created) {
      state.id = created.id;
      state.token = created.token;
      lastId = 0;
      save();
      connect();
    });
  }

  function submit() {
    var text = ui.input.value.trim();
    if (!text) return;
    ui.input.value = "";
    send(text, null);
  }

  function send(text, language, retried) {
    var message = {text: text, client_message_id: clientId()};
    if (language) message.language = language;
    if (!retried) showLive({sender: "customer", text: text});
    suggest([]);
    typing(1);
    sending += 1;
    sends += 1;
    var post = function () {
      return request("POST", "/conversations/" + state.id + "/messages", message, true);
    };
    return start().then(post).catch(function (error) {
      // Sent once more after a second, with the same client_message_id (stored once):
      // when no answer came, or the load balancer or the database could not serve it now.
      // Any other answer was final: no use sending it again as it is.
      if (error.status && !TRANSIENT[error.status]) throw error;
      return new Promise(function (resolve) { setTimeout(resolve, 1000); }).then(start).then(post);
    }).then(function (answer) {
      if (ui.status.dataset.key === "send_failed") status(null);
      answer.replies.forEach(function (reply) {
        showLive(Object.assign({sender: "bot"}, reply), false);
      });
      var last = answer.replies[answer.replies.length - 1];
      if (last) {
        suggest(last.suggestions);
        useLanguage(last.language);
      }
    }).catch(function (error) {
      if ((error.status === 401 || error.status === 404) && !retried) {
        forget();
        return send(text, language, true);
      }
      // empty or too long: the bot's own words say what to change
      if (error.status === 413 || error.status === 422) status("send_failed", error.message);
      else status("send_failed");
    }).then(done, done);

    function done() {
      typing(-1);
      sending -= 1;
      if (!sending && syncWanted) {
        syncWanted = false;
        sync();
      }
    }
  }

  // -- the live stream --------------------------------------------------------------------
  function stopStream() {
    if (!stream) return;
    clearTimeout(stream.watchdog);
    stream.controller.abort();
    stream = null;
  }

  function reconnectLater() {
    if (retryTimer || !state.id) return;
    status("reconnecting");
    retryTimer = setTimeout(function () {
      retryTimer = null;
      connect();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  }

  function connect() {
    stopStream();
    if (!state.id) return;
    var current = {controller: new AbortController(), watchdog: null, heartbeat: 30};
    stream = current;
    var alive = function () {
      clearTimeout(current.watchdog);
      current.watchdog = setTimeout(function () {
        current.controller.abort();  // silent for three heartbeats: the connection is dead
      }, current.heartbeat * 3000);
    };
    alive();
    fetch(API + "/conversations/" + state.id + "/events", {
      headers: {Authorization: "Bearer " + state.token, Accept: "text/event-stream"},
      signal: current.controller.signal,
      cache: "no-store",
      credentials: "omit",
    }).then(function (response) {
      if (response.status === 401 || response.status === 404) {
        forget();
        return;
      }
      if (!response.ok || !response.body) throw new Error("stream refused: " + response.status);
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      var pump = function () {
        return reader.read().then(function (chunk) {
          if (chunk.done) throw new Error("stream ended");
          alive();
          buffer += decoder.decode(chunk.value, {stream: true}).replace(/\r\n?/g, "\n");
          var end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            dispatch(current, buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
          return pump();
        });
      };
      return pump();
    }).catch(function () {
      clearTimeout(current.watchdog);
      if (stream === current) {
        stream = null;
        reconnectLater();
      }
    });
  }

  function dispatch(current, block) {
    var kind = "message";
    var data = [];
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) kind = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
    });
    if (!data.length) return;  // a ping
    var event;
    try {
      event = JSON.parse(data.join("\n"));
    } catch (e) {
      return;
    }
    if (kind === "ready") {
      current.heartbeat = Number(event.heartbeat) || current.heartbeat;
      retryMs = 1000;
      if (ui.status.dataset.key === "reconnecting") status(null);
      sync();
    } else if (kind === "message" && event.sender !== "customer" && typeof event.text === "string") {
      showLive(event, true);
      if (ui.window.hidden) ui.bubble.classList.add("unread");
      if (event.suggestions) suggest(event.suggestions);
    } else if (kind === "typing") {
      typing(1);
      setTimeout(function () { typing(-1); }, 5000);
    }
  }

  // -- opening and closing ----------------------------------------------------------------
  function open() {
    ui.window.hidden = false;
    ui.bubble.setAttribute("aria-expanded", "true");
    ui.bubble.classList.remove("unread");
    state.open = true;
    save();
    ui.input.focus();
    start().catch(function () { status("send_failed"); });
  }

  function close() {
    ui.window.hidden = true;
    ui.bubble.setAttribute("aria-expanded", "false");
    state.open = false;
    save();
    ui.bubble.focus();
  }

  function init() {
    var first = state.language || script.dataset.lang || navigator.language;
    loadStrings(first).then(function (answer) {
      strings = answer.strings;
      build(answer.languages);
      state.language = answer.language;
      ui.picker.value = answer.language;
      label();
      var welcome = render({sender: "bot", text: strings.welcome});
      welcome.querySelector(".text").setAttribute("data-label", "welcome");
      if (state.id) {
        sync().then(function () { if (state.id) connect(); });
      }
      if (state.open) open();
      window.addEventListener("online", function () { if (!stream && state.id) connect(); });
    }).catch(function (error) {
      console.warn("XOOBAY chat: the chat service at " + API + " cannot be used from this page (" +
        (error.message || error) + ")");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
