// Message edits and answer versions on the chat page.
// Edit: the Edit link of a person's message (the edit page without JavaScript) opens an editor in
// place: Save & send posts the new text, the server drops the messages after it and the page
// streams the new answer through chat.js (window.cjhChat.startStream); Cancel or Escape closes it.
// Versions: the "< 2/3 >" buttons are buttons of #version-form (they post without JavaScript);
// here they post with fetch and the answer's item is swapped for the version chosen, rendered by
// the server. Everything is delegated from the list, so streamed answers have it too.
(function () {
  "use strict";

  var list, strings = {}, statusLine;

  function csrfToken() {
    var input = document.querySelector("#version-form input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function announce(text) {
    if (!statusLine) { return; }
    statusLine.textContent = "";
    window.setTimeout(function () { statusLine.textContent = text; }, 50);
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

  // The server's rendering of an item takes the place of ``element``: its attributes and content
  // move over (a new node under content-visibility: auto would not be drawn until the next frame).
  function swap(element, html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var item = template.content.firstElementChild;
    if (!item) { return element; }
    Array.prototype.slice.call(element.attributes).forEach(function (attribute) { element.removeAttribute(attribute.name); });
    Array.prototype.forEach.call(item.attributes, function (attribute) { element.setAttribute(attribute.name, attribute.value); });
    element.innerHTML = item.innerHTML;
    return element;
  }

  function showErrors(editor, messages) {
    var box = editor.querySelector(".form-errors");
    var area = editor.querySelector("textarea");
    box.textContent = "";
    (messages || []).forEach(function (message) {
      var p = document.createElement("p");
      p.textContent = message;
      box.appendChild(p);
    });
    box.hidden = !messages || messages.length === 0;
    if (box.hidden) { area.removeAttribute("aria-invalid"); } else { area.setAttribute("aria-invalid", "true"); }
  }

  function parts(item) {
    return [item.querySelector(".msg-body"), item.querySelector(".msg-actions")].filter(Boolean);
  }

  function closeEditor(item, focusLink) {
    var editor = item.querySelector(".msg-edit-form");
    if (editor) { editor.remove(); }
    parts(item).forEach(function (part) { part.hidden = false; });
    item.classList.remove("msg-editing");
    var link = item.querySelector(".msg-edit");
    if (focusLink && link) { link.focus({ preventScroll: true }); }
  }

  function laterItems(item) {
    var later = [], node = item.nextElementSibling;
    while (node) { if (node.classList.contains("msg")) { later.push(node); } node = node.nextElementSibling; }
    return later;
  }

  function chatBusy() {
    var root = document.querySelector("[data-chat]");
    return root && root.getAttribute("aria-busy") === "true";
  }

  function openEditor(link) {
    var item = link.closest(".msg");
    var open = item.querySelector(".msg-edit-form");
    if (open) { open.querySelector("textarea").focus(); return; }
    var editor = document.getElementById("tpl-edit").content.firstElementChild.cloneNode(true);
    var area = editor.querySelector("textarea");
    var label = editor.querySelector("label");
    var errorsId = "edit-errors-" + item.dataset.messageId;
    area.id = "edit-" + item.dataset.messageId;
    label.setAttribute("for", area.id);
    editor.querySelector(".form-errors").id = errorsId;
    area.setAttribute("aria-describedby", errorsId);
    var source = item.querySelector("[data-copy]");
    area.value = source ? source.dataset.copy : (item.querySelector(".msg-body") || item).textContent;
    if (laterItems(item).length) {
      var hint = editor.querySelector(".msg-edit-later");
      hint.textContent = strings.later;
      hint.hidden = false;
    }
    parts(item).forEach(function (part) { part.hidden = true; });
    item.classList.add("msg-editing");
    item.appendChild(editor);
    editor.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        closeEditor(item, true);
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.target === area) {
        event.preventDefault();
        save(item, link, editor);
      }
    });
    editor.addEventListener("submit", function (event) { event.preventDefault(); save(item, link, editor); });
    editor.querySelector("[data-edit-cancel]").addEventListener("click", function () { closeEditor(item, true); });
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }

  function save(item, link, editor) {
    var area = editor.querySelector("textarea");
    if (!area.value.trim()) { showErrors(editor, [strings.empty]); area.focus(); return; }
    if (chatBusy()) { showErrors(editor, [strings.busy]); return; }
    var buttons = editor.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (button) { button.disabled = true; });
    var body = new FormData();
    body.append("content", area.value);
    post(link.getAttribute("href"), body).then(function (result) {
      if (!result.ok) {
        showErrors(editor, result.data.errors || [strings.failed]);
        area.focus();
        return;
      }
      laterItems(item).forEach(function (node) { node.remove(); });
      swap(item, result.data.user_html); // rendered (and escaped) by the server, the editor with it
      announce(strings.edited);
      var chat = window.cjhChat;
      if (!chat || !chat.startStream(result.data.stream_url, result.data.stop_url)) {
        window.location.assign(window.location.pathname + "#latest"); // the page starts the pending answer
        window.location.reload();
      }
    }).catch(function () {
      showErrors(editor, [strings.failed]);
    }).finally(function () {
      Array.prototype.forEach.call(buttons, function (button) { button.disabled = false; });
    });
  }

  function chooseVersion(button) {
    var item = button.closest(".msg");
    var step = button.dataset.versionStep;
    var buttons = item.querySelectorAll(".msg-version");
    Array.prototype.forEach.call(buttons, function (other) { other.disabled = true; });
    post(button.getAttribute("formaction")).then(function (result) {
      if (!result.ok) {
        announce((result.data.errors || [strings.failed])[0]);
        Array.prototype.forEach.call(buttons, function (other) { other.disabled = !other.getAttribute("formaction"); });
        return;
      }
      swap(item, result.data.item);
      // The focus stays on the control: on the same step when there is one more, else the other.
      var again = item.querySelector('.msg-version[data-version-step="' + step + '"]:not([disabled])')
        || item.querySelector(".msg-version:not([disabled])");
      if (again) { again.focus({ preventScroll: true }); }
      var count = item.querySelector(".msg-version-count");
      if (count) {
        var numbers = count.textContent.split("/");
        announce(strings.version.replace("%(number)s", numbers[0]).replace("%(total)s", numbers[1]));
      }
    }).catch(function () {
      announce(strings.failed);
      Array.prototype.forEach.call(buttons, function (other) { other.disabled = !other.getAttribute("formaction"); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    list = document.getElementById("messages");
    var texts = document.getElementById("i18n-edit");
    if (!list || !texts) { return; }
    strings = texts.dataset;
    statusLine = document.getElementById("chat-status");
    list.addEventListener("click", function (event) {
      var target = event.target.closest("a.msg-edit, button.msg-version");
      if (!target || !list.contains(target)) { return; }
      event.preventDefault();
      if (target.classList.contains("msg-edit")) {
        if (document.getElementById("composer")) { openEditor(target); } else { window.location.assign(target.href); }
      } else {
        chooseVersion(target);
      }
    });
  });
})();
