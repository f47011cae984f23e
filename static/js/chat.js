// Chat: send without reloading, stream the answer over Server-Sent Events, stop, regenerate.
// A question's own response carries its answer (one request a turn): read here with fetch, in
// the event-stream format, after a first "turn" event with the question's item and URLs. Other
// answers (a regenerated one, one pending when the page opens, one whose response was cut short)
// come through an EventSource on the stream's URL. While streaming, the server sends the answer so far as sanitised HTML snapshots (at most every
// 100 ms), or plain text when snapshots are off; the final answer's list item comes from the
// server already rendered and sanitised too. The answer is written on the
// server whatever happens to this page: a lost connection reconnects and resumes after the last
// event received (EventSource sends Last-Event-ID), and a page opened later picks it up.
// Reading: the page follows the answer only while the reader is at the bottom; scrolled up, it
// stays put and offers "Jump to latest".
(function () {
  "use strict";

  var root, list, form, textarea, sendButton, stopButton, regenerateButton, statusLine, errors, i18n, jumpButton;
  var current = null; // {source, reading, element, stopUrl, streamUrl}
  var sending = false; // a question on its way, not yet saved: Enter again must not post it twice
  var follow = true; // the reader is at the bottom: new text keeps it there
  var BOTTOM_SLACK = 48; // px from the end that still count as "at the bottom"
  var MAX_RETRIES = 5, RETRY_MS = 3000; // reopening a stream the browser gave up on
  // Browsers that read a response as it arrives ask for the answer with the question.
  var READS_STREAMS = !!(window.fetch && window.TextDecoder && window.ReadableStream && window.AbortController);
  var ANSWER_EVENTS = ["reset", "delta", "delayed", "done", "failed"];

  function csrfToken() {
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function announce(text) {
    if (statusLine) { statusLine.textContent = text; }
  }

  function showErrors(messages) {
    errors.textContent = "";
    (messages || []).forEach(function (message) {
      var p = document.createElement("p");
      p.textContent = message;
      errors.appendChild(p);
    });
    errors.hidden = !messages || messages.length === 0;
  }

  function scroller() { return document.scrollingElement || document.documentElement; }

  function atBottom() {
    var page = scroller();
    return page.scrollHeight - (page.scrollTop + window.innerHeight) <= BOTTOM_SLACK;
  }

  function showJump() {
    if (jumpButton) { jumpButton.hidden = follow || atBottom(); }
  }

  // To the very end of the page: there the sticky composer sits in its own place below the
  // list, so it covers none of the last message.
  function toEnd() { window.scrollTo(0, scroller().scrollHeight); }

  function scrollToEnd() {
    follow = true;
    toEnd();
    showJump();
  }

  function keepUp() {
    // New text: follow it only when the reader was at the bottom.
    if (follow) { toEnd(); }
    showJump();
  }

  // Only the reader stops the following (wheel, touch, keys, the scroll bar): the page also
  // scrolls by itself while messages laid out lazily (content-visibility) take their real size.
  var lastInput = 0;
  function reading() { lastInput = Date.now(); }

  function onScroll() {
    if (atBottom()) {
      follow = true;
    } else if (Date.now() - lastInput < 1000) {
      follow = false;
    }
    showJump();
  }

  function jumpToLatest() {
    lastInput = 0; // this click asks to follow: the scrolling it starts is not the reader's
    scrollToEnd();
    var last = list.lastElementChild;
    if (last) {
      last.setAttribute("tabindex", "-1");
      last.focus({ preventScroll: true });
    }
  }

  function setBusy(busy) {
    sendButton.disabled = busy;
    stopButton.hidden = !busy;
    if (regenerateButton) { regenerateButton.hidden = busy || !list.querySelector(".msg-assistant"); }
    root.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: body || new FormData(),
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  }

  function assistantElement(existing) {
    if (existing) {
      existing.classList.remove("msg-pending");
      existing.classList.add("msg-streaming");
      var body = existing.querySelector(".msg-body");
      body.textContent = "";
      var p = document.createElement("p");
      p.className = "streaming-text";
      body.appendChild(p);
      return existing;
    }
    var node = document.getElementById("tpl-assistant").content.firstElementChild.cloneNode(true);
    node.querySelector(".msg-author").textContent = list.dataset.agentName || "";
    var empty = list.querySelector(".chat-empty");
    if (empty) { empty.remove(); }
    list.appendChild(node);
    return node;
  }

  // ``reading``: the AbortController of the response the answer already comes in (the
  // question's own); without it, an EventSource opens the stream.
  function stream(streamUrl, stopUrl, existing, reading) {
    var element = assistantElement(existing);
    current = { element: element, stopUrl: stopUrl, streamUrl: streamUrl, retries: 0, reading: reading || null };
    setBusy(true);
    announce(i18n.thinking);
    if (follow) { scrollToEnd(); }
    if (!reading) { listen(element); }
  }

  // What each event of an answer does to its element, whichever way the events come.
  function answerHandlers(element) {
    var body = element.querySelector(".msg-body");
    var shown = ""; // the text so far, for a stream without snapshots
    function show(data) {
      current.retries = 0;
      if (typeof data.html === "string") {
        // A snapshot: the whole answer so far, rendered and sanitised by the server (markdown-it
        // with HTML off, then nh3), as the final answer will be; the page builds no HTML itself.
        body.innerHTML = data.html;
      } else {
        shown += data.t || "";
        var text = body.querySelector(".streaming-text");
        if (!text) {
          body.textContent = "";
          text = document.createElement("p");
          text.className = "streaming-text";
          body.appendChild(text);
        }
        text.textContent = shown;
      }
      body.classList.add("streaming-body");
      keepUp();
    }
    function clear() {
      shown = "";
      var p = document.createElement("p");
      p.className = "streaming-text";
      body.textContent = "";
      body.appendChild(p);
    }
    return {
      reset: clear, // the server replays the answer from its start
      delta: show,
      // The server cannot carry answers now (Redis is restarting): the question is saved, the
      // browser comes back by itself (the stream's retry) and the answer follows when it can.
      delayed: function (data) {
        body.textContent = "";
        var note = document.createElement("p");
        note.className = "msg-note";
        note.textContent = data.message;
        body.appendChild(note);
        announce(data.message);
      },
      done: function (data) {
        finish(element, data);
        announce(data.status === "complete" ? i18n.done : (data.status === "cancelled" ? i18n.stopped : i18n.failed));
      },
      failed: function (data) {
        element.remove();
        showErrors([data.error]);
        announce(data.error);
        end();
      }
    };
  }

  function listen(element) {
    var handlers = answerHandlers(element);
    handlers.reset(); // a new EventSource gets the answer from its start
    var source = new EventSource(current.streamUrl);
    current.source = source;
    ANSWER_EVENTS.forEach(function (name) {
      source.addEventListener(name, function (event) { handlers[name](event.data ? JSON.parse(event.data) : {}); });
    });
    source.onerror = function () {
      // The server closes the stream after "done"; an error before that is a lost connection.
      // While the browser is reconnecting (it sends the last event's id and the server resumes
      // after it) there is nothing to say; only a connection given up on is reported.
      if (source.readyState === EventSource.CONNECTING) { return; }
      if (current && current.source === source && current.retries < MAX_RETRIES) {
        // Given up by the browser (an error page from a proxy, say): the answer is still being
        // written on the server, so open the stream again, a little later, from its start.
        current.retries += 1;
        window.setTimeout(function () { if (current && current.source === source) { listen(element); } }, RETRY_MS);
        return;
      }
      if (current && current.source === source) {
        var note = document.createElement("p");
        note.className = "msg-note error";
        note.textContent = i18n.network;
        element.appendChild(note);
        end();
      }
    };
  }

  // Times come from the server in its time zone (people have no time-zone setting); the
  // datetime attribute carries the instant, shown here in the browser's own zone.
  function localTimes(scope) {
    if (!window.Intl || !scope) { return; }
    var format = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }); // as the server writes it
    Array.prototype.forEach.call(scope.querySelectorAll(".msg-meta time[datetime]"), function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) { return; }
      // Written only where the browser's zone shows another time: 500 equal writes would make the
      // browser style the whole list again before it shows the latest message.
      var shown = format.format(when);
      if (el.textContent !== shown) { el.textContent = shown; }
    });
  }

  function finish(element, data) {
    // The server sends the stored answer's list item exactly as the page renders it (body
    // sanitised by markdown-it with HTML off and nh3, status note, sources). The draft element
    // takes its attributes and content rather than being replaced: a new node under
    // content-visibility: auto would not be rendered (nor read by assistive technology) until
    // the next frame decides it is on screen.
    var template = document.createElement("template");
    template.innerHTML = data.item;
    var item = template.content.firstElementChild;
    if (item) {
      Array.prototype.slice.call(element.attributes).forEach(function (attribute) { element.removeAttribute(attribute.name); });
      Array.prototype.forEach.call(item.attributes, function (attribute) { element.setAttribute(attribute.name, attribute.value); });
      element.innerHTML = item.innerHTML;
      localTimes(element);
      // Others follow the finished answer (static/js/artifacts.js: its cards, the panel, diagrams).
      document.dispatchEvent(new CustomEvent("chat:answer", { detail: { element: element } }));
    }
    end();
    keepUp(); // the rendered answer may be taller than its draft: its end stays in view
  }

  function end() {
    if (current && current.source) { current.source.close(); }
    if (current && current.reading) { current.reading.abort(); }
    current = null;
    setBusy(false);
    textarea.focus({ preventScroll: true });
  }

  function send(event) {
    event.preventDefault();
    if (current || sending || !textarea.value.trim()) {
      if (!textarea.value.trim()) { showErrors([textarea.dataset.emptyMessage || textarea.placeholder]); }
      return;
    }
    var controller = READS_STREAMS ? new AbortController() : null;
    sendButton.disabled = sending = true;
    fetch(form.action, {
      method: "POST",
      // Errors (and a new conversation's redirect) come back as JSON whatever is asked.
      headers: { "Accept": controller ? "text/event-stream, application/json" : "application/json", "X-CSRFToken": csrfToken() },
      body: new FormData(form),
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      if (controller && response.body && (response.headers.get("Content-Type") || "").indexOf("text/event-stream") === 0) {
        return readTurn(response, controller);
      }
      return response.json().then(function (data) {
        sendButton.disabled = sending = false;
        if (!response.ok) { showErrors(data.errors); return; }
        showErrors([]);
        if (data.redirect) { window.location.assign(data.redirect); return; }
        asked(data.user_html);
        stream(data.stream_url, data.stop_url);
      });
    }).catch(function () {
      sendButton.disabled = sending = false;
      showErrors([i18n.network]);
    });
  }

  function asked(userHtml) {
    textarea.value = "";
    var empty = list.querySelector(".chat-empty");
    if (empty) { empty.remove(); }
    list.insertAdjacentHTML("beforeend", userHtml); // rendered and escaped by the server
    localTimes(list.lastElementChild);
    follow = true; // one's own question: show it and its answer
  }

  // The question's response, read as it arrives: "turn" (the question saved: its item and URLs),
  // then the answer's events as the stream's URL sends them. Cut short before the answer's last
  // event (a lost connection), the answer is still written on the server: an EventSource opens
  // the stream again, from the start. Resolves once the question is shown; rejects (a network
  // error) only before that.
  function readTurn(response, controller) {
    var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
    var turn = null, handlers = null, ended = false, retryMs = RETRY_MS;
    var questionShown = null; // resolves the promise returned, once "turn" is shown
    function dispatch(block) {
      var name = "message", data = "";
      block.split("\n").forEach(function (line) {
        var colon = line.indexOf(":");
        var field = colon < 0 ? line : line.slice(0, colon);
        var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") { name = value; }
        else if (field === "data") { data += (data ? "\n" : "") + value; }
        else if (field === "retry" && /^\d+$/.test(value)) { retryMs = parseInt(value, 10); }
      });
      if (!data) { return; }
      var payload = JSON.parse(data);
      if (name === "turn") {
        sending = false;
        showErrors([]);
        asked(payload.user_html);
        stream(payload.stream_url, payload.stop_url, null, controller);
        turn = current;
        handlers = answerHandlers(turn.element);
      } else if (turn && current === turn && ANSWER_EVENTS.indexOf(name) >= 0) {
        ended = name === "done" || name === "failed";
        handlers[name](payload);
      }
    }
    function lost(after) {
      if (ended || !turn || current !== turn) { return; }
      turn.reading = null;
      window.setTimeout(function () { if (current === turn) { listen(turn.element); } }, after);
    }
    function pump() {
      return reader.read().then(function (chunk) {
        buffer += chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
        var at;
        while ((at = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, at));
          buffer = buffer.slice(at + 2);
          if (turn && questionShown) { questionShown(); questionShown = null; }
        }
        if (!chunk.done) { return pump(); }
        if (!turn) { throw new Error("no turn"); }
        lost(retryMs); // ended without the answer's last event (as when Redis is away: "delayed")
      });
    }
    return new Promise(function (resolve, reject) {
      questionShown = resolve;
      pump().catch(function (error) {
        if (!turn) { reject(error); return; }
        lost(0);
      });
    });
  }

  function stop() {
    if (!current) { return; }
    stopButton.disabled = true;
    post(current.stopUrl).finally(function () { stopButton.disabled = false; });
  }

  function regenerate() {
    if (current) { return; }
    var last = list.querySelector(".msg-assistant:last-of-type");
    post(form.dataset.regenerateUrl).then(function (result) {
      if (!result.ok) { showErrors(result.data.errors); return; }
      var lastAssistant = list.lastElementChild;
      if (lastAssistant && lastAssistant.classList.contains("msg-assistant")) { lastAssistant.remove(); }
      stream(result.data.stream_url, result.data.stop_url);
    });
    return last;
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = document.querySelector("[data-chat]");
    if (!root) { return; }
    list = document.getElementById("messages");
    form = document.getElementById("composer");
    statusLine = document.getElementById("chat-status");
    i18n = document.getElementById("i18n").dataset;
    window.addEventListener("scroll", onScroll, { passive: true });
    ["wheel", "touchmove", "keydown", "mousedown"].forEach(function (name) {
      window.addEventListener(name, reading, { passive: true, capture: true });
    });
    // Whatever changes the list's height (an answer growing or rendered, messages coming into
    // view at their real size) keeps a following reader at the end.
    if (window.ResizeObserver) {
      new ResizeObserver(function () { if (follow) { toEnd(); } showJump(); }).observe(list);
    }
    window.addEventListener("resize", showJump);
    localTimes(list);
    if (!form) { scrollToEnd(); return; }
    textarea = form.querySelector("textarea");
    sendButton = document.getElementById("send");
    stopButton = document.getElementById("stop");
    regenerateButton = document.getElementById("regenerate");
    errors = document.getElementById("composer-errors");
    jumpButton = document.getElementById("jump-latest");
    if (jumpButton) { jumpButton.addEventListener("click", jumpToLatest); }
    // Back from the back/forward cache with the stream closed: listen again (from the start).
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && current && current.source && current.source.readyState === EventSource.CLOSED) {
        listen(current.element);
      }
    });
    form.addEventListener("submit", send);
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { send(event); }
    });
    stopButton.addEventListener("click", stop);
    if (regenerateButton) { regenerateButton.addEventListener("click", regenerate); }
    // A conversation opens at its latest message.
    scrollToEnd();
    var pending = list.querySelector(".msg-pending[data-stream-url]");
    if (pending) {
      stream(pending.dataset.streamUrl, pending.dataset.stopUrl, pending);
    }
    textarea.focus({ preventScroll: true });
  });
  // For static/js/message-edit.js: stream the answer to an edited message (false while one streams).
  window.cjhChat = window.cjhChat || { startStream: function (streamUrl, stopUrl) { if (current || !list || !form) { return false; } follow = true; stream(streamUrl, stopUrl); return true; } };
})();

// Message actions: Copy a message (its own text or Markdown, from data-copy) or a code block of an
// answer (the code only; its button is added here, the answer's HTML stays the server's), and
// thumbs up/down on answers. The thumbs are buttons of the page's #feedback-form, so they post
// without JavaScript too; here they post with fetch and the page stays put. Everything is
// delegated from the list, so answers streamed in later have their actions as well.
(function () {
  "use strict";

  var strings = {}, statusLine = null, COPIED_MS = 2000;

  function announce(text) {
    if (!statusLine) { return; }
    statusLine.textContent = ""; // the same words twice are announced twice
    window.setTimeout(function () { statusLine.textContent = text; }, 50);
  }

  function copyByHand(text) {
    // Without the asynchronous clipboard (an older browser, a page not in a secure context).
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (error) { done = false; }
    area.remove();
    return done ? Promise.resolve() : Promise.reject(new Error("copy"));
  }

  function copyText(text) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text).catch(function () { return copyByHand(text); });
    }
    return copyByHand(text);
  }

  function copy(button, text) {
    copyText(text).then(function () {
      if (!button.dataset.label) { button.dataset.label = button.textContent; }
      button.textContent = strings.copied;
      button.classList.add("copied");
      window.clearTimeout(button._copiedTimer);
      button._copiedTimer = window.setTimeout(function () {
        button.textContent = button.dataset.label;
        button.classList.remove("copied");
      }, COPIED_MS);
      announce(strings.copiedStatus);
    }, function () {
      announce(strings.copyFailed);
    });
  }

  function addCodeButtons(scope) {
    if (!scope || !scope.querySelectorAll) { return; }
    var codes = scope.matches && scope.matches(".msg-assistant .msg-body pre > code") ? [scope]
      : scope.querySelectorAll(".msg-assistant .msg-body pre > code");
    Array.prototype.forEach.call(codes, function (code) {
      var pre = code.parentElement;
      if (pre.dataset.copyReady) { return; }
      pre.dataset.copyReady = "1";
      var bar = document.createElement("div");
      bar.className = "code-bar";
      var language = (code.className.match(/language-([\w+#.-]+)/) || [])[1];
      if (language && language !== "text") {
        var name = document.createElement("span");
        name.className = "code-language";
        name.textContent = language;
        bar.appendChild(name);
      }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "msg-action code-copy";
      button.textContent = strings.copyCode;
      bar.appendChild(button);
      pre.parentNode.insertBefore(bar, pre);
    });
  }

  function csrfToken() {
    var input = document.querySelector("#feedback-form input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function sendFeedback(button) {
    var group = button.closest(".msg-actions");
    var thumbs = group.querySelectorAll(".msg-thumb");
    var body = new FormData();
    body.append("value", button.value);
    Array.prototype.forEach.call(thumbs, function (thumb) { thumb.disabled = true; });
    fetch(button.getAttribute("formaction"), {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: body,
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (!result.ok) { announce((result.data.errors || [strings.feedbackFailed])[0]); return; }
      var feedback = result.data.feedback;
      Array.prototype.forEach.call(thumbs, function (thumb) {
        thumb.setAttribute("aria-pressed", thumb.value === feedback ? "true" : "false");
      });
      announce(feedback === "up" ? strings.feedbackUp : (feedback === "down" ? strings.feedbackDown : strings.feedbackNone));
    }).catch(function () {
      announce(strings.feedbackFailed);
    }).finally(function () {
      Array.prototype.forEach.call(thumbs, function (thumb) { thumb.disabled = false; });
      button.focus({ preventScroll: true });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var list = document.getElementById("messages");
    var texts = document.getElementById("i18n-actions");
    if (!list || !texts) { return; }
    strings = texts.dataset;
    statusLine = document.getElementById("chat-status");
    addCodeButtons(list);
    if (window.MutationObserver) {
      // A streamed answer's final HTML, a message added by send: their code blocks get buttons.
      new MutationObserver(function (records) {
        records.forEach(function (record) {
          if (record.type !== "childList" || !record.addedNodes.length) { return; }
          var item = record.target.closest ? record.target.closest(".msg-assistant") : null;
          if (item) { addCodeButtons(item); return; }
          Array.prototype.forEach.call(record.addedNodes, function (node) { if (node.nodeType === 1) { addCodeButtons(node); } });
        });
      }).observe(list, { childList: true, subtree: true });
    }
    list.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button || !list.contains(button)) { return; }
      if (button.classList.contains("msg-copy")) {
        copy(button, button.dataset.copy || "");
      } else if (button.classList.contains("code-copy")) {
        var code = button.parentElement.nextElementSibling && button.parentElement.nextElementSibling.querySelector("code");
        copy(button, code ? code.textContent : "");
      } else if (button.classList.contains("msg-thumb")) {
        event.preventDefault();
        sendFeedback(button);
      }
    });
  });
})();
