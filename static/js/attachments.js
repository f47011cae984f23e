// Chat attachments (issue 07 item 9): files attached to this conversation from the composer, by the
// "Attach files" button, by dropping them on the composer or by pasting them into the message box.
// Each is uploaded at once (the server refuses a wrong type, a too large file or a full quota, with
// the reason shown here) and then shown as a chip with its indexing state, polled until it is ready
// or failed, with a button to remove it. Without JavaScript the file input and an Upload button post
// #attachment-form, and each chip's remove button posts it to the delete address.
// On a new chat's page the first file opens the conversation: the rest go to it, then the page
// moves there, the message typed so far kept (sessionStorage) and put back in the box.
(function () {
  "use strict";

  var INTERVAL = 1500;
  var MAX_BACKOFF = 15000;
  var PENDING = { QUEUED: true, INDEXING: true };

  var box = document.getElementById("attachments");
  var form = document.getElementById("attachment-form");
  if (!box || !form) { return; }
  var composer = document.getElementById("composer");
  var chips = document.getElementById("attachment-chips");
  var input = document.getElementById("attachment-file");
  var button = document.getElementById("attach-button");
  var errors = document.getElementById("attachment-errors");
  var status = document.getElementById("attachment-status");
  var drop = box.querySelector("[data-attachment-drop]");
  var labelsNode = document.getElementById("attachment-labels");
  var labels = labelsNode ? JSON.parse(labelsNode.textContent) : {};
  var maxBytes = parseInt(box.getAttribute("data-max-bytes"), 10) || 0;
  var pollTimer = null;
  var delay = INTERVAL;
  var known = {};  // attachment id -> last status, for announcing changes once
  var addUrl = box.getAttribute("data-add-url");
  var listUrl = box.getAttribute("data-list-url");
  var opened = null;  // on a new chat's page: the conversation the first file opened
  var DRAFT_KEY = "chat-draft:";
  var textarea = composer ? composer.querySelector("textarea") : null;

  box.classList.add("js");
  if (button) { button.hidden = false; }
  input.multiple = true;  // each file is its own upload here; without JavaScript the form posts one
  input.tabIndex = -1;  // the button is the way in from the keyboard; the input is only its picker

  function format(template, values) {
    return String(template || "")
      .replace(/%\((\w+)\)s/g, function (match, key) { return key in values ? String(values[key]) : match; })
      .replace(/%%/g, "%");
  }

  function humanSize(bytes) {
    if (bytes >= 1048576) { return (Math.round(bytes / 104857.6) / 10) + " MB"; }
    if (bytes >= 1024) { return Math.round(bytes / 1024) + " KB"; }
    return bytes + " bytes";
  }

  function csrfToken() {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function announce(text) {
    if (status) { status.textContent = text; }
  }

  function showError(text) {
    if (!errors) { return; }
    errors.textContent = text || "";
    errors.hidden = !text;
  }

  function stateText(item) {
    if (item.status === "INDEXING") { return format(labels.INDEXING, { progress: item.progress }); }
    if (item.status === "INDEXED") { return labels.INDEXED || item.status; }
    if (item.status === "FAILED") { return format(labels.FAILED, { reason: item.error || labels.unknown || "" }); }
    return labels.QUEUED || item.status;
  }

  function deleteUrl(id) {
    return box.getAttribute("data-delete-url-template").replace("00000000-0000-0000-0000-000000000000", id);
  }

  function chip(item) {
    var li = document.createElement("li");
    li.className = "attachment-chip";
    li.setAttribute("data-attachment-id", item.id);
    li.setAttribute("data-status", item.status);
    var title = document.createElement("span");
    title.className = "attachment-title";
    title.title = item.title;
    title.textContent = item.title;
    var state = document.createElement("span");
    state.className = "attachment-state";
    state.setAttribute("data-attachment-state", "");
    state.textContent = stateText(item);
    var remove = document.createElement("button");
    remove.type = "submit";
    remove.className = "attachment-remove";
    remove.setAttribute("form", "attachment-form");
    remove.setAttribute("formaction", deleteUrl(item.id));
    remove.setAttribute("data-attachment-remove", "");
    remove.setAttribute("aria-label", format(labels.remove, { title: item.title }));
    remove.title = labels.remove_short || "";
    var cross = document.createElement("span");
    cross.setAttribute("aria-hidden", "true");
    cross.textContent = "×";
    remove.appendChild(cross);
    li.appendChild(title);
    li.appendChild(state);
    li.appendChild(remove);
    return li;
  }

  function placeholder(file) {
    var li = document.createElement("li");
    li.className = "attachment-chip attachment-uploading";
    li.setAttribute("data-status", "UPLOADING");
    var title = document.createElement("span");
    title.className = "attachment-title";
    title.textContent = file.name;
    var state = document.createElement("span");
    state.className = "attachment-state";
    state.textContent = labels.uploading || "";
    li.appendChild(title);
    li.appendChild(state);
    return li;
  }

  function render(items) {
    var uploadingChips = chips.querySelectorAll(".attachment-uploading");
    chips.textContent = "";
    items.forEach(function (item) {
      chips.appendChild(chip(item));
      var before = known[item.id];
      if (before && before !== item.status) {
        if (item.status === "INDEXED") { announce(format(labels.announce_ready, { title: item.title })); }
        if (item.status === "FAILED") {
          announce(format(labels.announce_failed, { title: item.title, reason: item.error || labels.unknown || "" }));
        }
      }
      known[item.id] = item.status;
    });
    Array.prototype.forEach.call(uploadingChips, function (node) { chips.appendChild(node); });
    chips.hidden = !chips.children.length;
    schedule(items);
  }

  function schedule(items) {
    if (pollTimer) { clearTimeout(pollTimer); pollTimer = null; }
    var pending = items.some(function (item) { return PENDING[item.status]; });
    if (!pending || !listUrl) { delay = INTERVAL; return; }
    pollTimer = setTimeout(poll, delay);
  }

  function poll() {
    pollTimer = null;
    fetch(listUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (body) { delay = INTERVAL; render(body.attachments || []); })
      .catch(function () {
        delay = Math.min(delay * 2, MAX_BACKOFF);
        pollTimer = setTimeout(poll, delay);
      });
  }

  function send(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, data: data };
      });
    });
  }

  function upload(file) {
    if (maxBytes && file.size > maxBytes) {
      showError(file.name + ": " + format(labels.too_large, { limit: humanSize(maxBytes) }));
      return Promise.resolve();
    }
    var temp = placeholder(file);
    chips.appendChild(temp);
    chips.hidden = false;
    var body = new FormData();
    body.append("file", file, file.name);
    return send(addUrl, body)
      .then(function (result) {
        if (result.ok && result.data.redirect) {  // a new chat's first file opened its conversation
          opened = result.data.redirect;
          addUrl = result.data.add_url;
          temp.classList.remove("attachment-uploading");  // the server's list has it from now on
          temp.querySelector(".attachment-state").textContent = stateText(result.data.added);
          return;
        }
        temp.remove();
        if (!result.ok) {
          showError(file.name + ": " + ((result.data.errors || [])[0] || labels.upload_failed));
        } else if (result.data.added) {
          known[result.data.added.id] = result.data.added.status;
          announce(format(labels.announce_added, { title: result.data.added.title }));
        }
        if (result.data.attachments) { render(result.data.attachments); }
        chips.hidden = !chips.children.length;
      })
      .catch(function () {
        temp.remove();
        chips.hidden = !chips.children.length;
        showError(file.name + ": " + labels.upload_failed);
      });
  }

  function uploadAll(files) {
    var list = Array.prototype.slice.call(files || []);
    if (!list.length) { return; }
    showError("");
    // One after the other: the server counts a conversation's attachments one upload at a time.
    list.reduce(function (previous, file) {
      return previous.then(function () { return upload(file); });
    }, Promise.resolve()).then(function () {
      if (!opened) { return; }
      try {
        if (textarea && textarea.value) { sessionStorage.setItem(DRAFT_KEY + opened, textarea.value); }
      } catch (error) { /* storage refused: the draft is lost, the files are not */ }
      window.location.assign(opened);
    });
  }

  if (button) {
    button.addEventListener("click", function () { input.click(); });
  }
  input.addEventListener("change", function () {
    var files = input.files;
    uploadAll(files);
    input.value = "";
  });

  chips.addEventListener("click", function (event) {
    var remove = event.target.closest("[data-attachment-remove]");
    if (!remove) { return; }
    event.preventDefault();
    var item = remove.closest(".attachment-chip");
    var title = item ? item.querySelector(".attachment-title").textContent : "";
    remove.disabled = true;
    send(remove.getAttribute("formaction"), new FormData())
      .then(function (result) {
        if (!result.ok) {
          remove.disabled = false;
          showError((result.data.errors || [])[0] || labels.upload_failed);
        } else {
          showError("");
          announce(format(labels.announce_removed, { title: title }));
        }
        if (result.data.attachments) { render(result.data.attachments); }
      })
      .catch(function () { remove.disabled = false; showError(labels.upload_failed); });
  });

  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  var depth = 0;
  var target = composer || box;
  target.addEventListener("dragenter", function (event) {
    if (!hasFiles(event)) { return; }
    event.preventDefault();
    depth += 1;
    target.classList.add("attachment-dragging");
    if (drop) { drop.hidden = false; }
  });
  target.addEventListener("dragover", function (event) {
    if (!hasFiles(event)) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  target.addEventListener("dragleave", function () {
    depth = Math.max(depth - 1, 0);
    if (!depth) {
      target.classList.remove("attachment-dragging");
      if (drop) { drop.hidden = true; }
    }
  });
  target.addEventListener("drop", function (event) {
    depth = 0;
    target.classList.remove("attachment-dragging");
    if (drop) { drop.hidden = true; }
    if (!event.dataTransfer || !event.dataTransfer.files || !event.dataTransfer.files.length) { return; }
    event.preventDefault();
    uploadAll(event.dataTransfer.files);
  });

  if (composer) {
    composer.addEventListener("paste", function (event) {
      var data = event.clipboardData;
      if (!data || !data.files || !data.files.length) { return; }
      event.preventDefault();  // a pasted file is attached, not pasted as its name
      uploadAll(data.files);
    });
  }

  // A message typed on the new chat's page before its first file opened this conversation.
  try {
    var draft = sessionStorage.getItem(DRAFT_KEY + window.location.pathname);
    if (draft !== null) {
      sessionStorage.removeItem(DRAFT_KEY + window.location.pathname);
      if (textarea && !textarea.value) { textarea.value = draft; }
    }
  } catch (error) { /* no storage: nothing to restore */ }

  // Chips rendered by the server: keep polling while any is still being indexed.
  var initial = Array.prototype.map.call(chips.querySelectorAll(".attachment-chip"), function (node) {
    var id = node.getAttribute("data-attachment-id");
    known[id] = node.getAttribute("data-status");
    return { id: id, status: known[id] };
  });
  schedule(initial);
})();
