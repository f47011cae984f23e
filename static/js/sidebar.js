// Conversation sidebar: search titles as you type, pin, rename in place, delete with an undo toast
// (the delete is held for a few seconds and sent when the toast expires or the page is left), the
// New chat shortcut (Ctrl/Cmd+Shift+O), and the generated title shown as soon as it exists.
// Without JavaScript every action is a link or a form that works on its own.
(function () {
  "use strict";

  var UNDO_MS = 8000;
  var NARROW = "(max-width: 959px)";
  var root, list, panel, toast, toastText, undoButton, i18n;
  var pending = null; // {item, url, timer, current}
  var searchTimer = null;
  var searchSeq = 0;

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(url, fields) {
    var body = new FormData();
    Object.keys(fields || {}).forEach(function (key) { body.append(key, fields[key]); });
    return fetch(url, {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: body,
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  }

  function say(text, withUndo) {
    toastText.textContent = text;
    if (!withUndo && document.activeElement === undoButton) {
      root.querySelector(".convo-summary").focus(); // the focus must not stay on a hidden button
    }
    undoButton.hidden = !withUndo;
    toast.classList.toggle("open", Boolean(text));
  }

  function failed() { say(i18n.failed, false); }

  // --- the list ------------------------------------------------------------------------------

  function listUrl() {
    var params = new URLSearchParams();
    var search = root.querySelector("[data-convo-search] input[type=search]");
    if (search && search.value.trim()) { params.set(search.name, search.value.trim()); }
    if (root.dataset.current) { params.set("current", root.dataset.current); }
    params.set("next", root.dataset.next || "");
    return root.dataset.listUrl + "?" + params.toString();
  }

  // Fetch the list again (the server groups it) and swap it in; ``focusId`` gets the focus back.
  function refresh(focusId) {
    var seq = ++searchSeq;
    return fetch(listUrl(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        if (seq !== searchSeq) { return; } // an older answer arriving late
        list.innerHTML = html;
        if (pending) {
          var again = itemById(pending.id);
          if (again) { again.hidden = true; pending.item = again; }
        }
        if (focusId) {
          var item = itemById(focusId);
          var target = item && item.querySelector(".convo-menu-button");
          if (target) { target.focus(); }
        }
      })
      .catch(failed);
  }

  function itemById(id) {
    return list.querySelector('.convo-item[data-conversation="' + id + '"]');
  }

  function closeMenus(except) {
    root.querySelectorAll(".convo-menu[open]").forEach(function (menu) {
      if (menu !== except) { menu.removeAttribute("open"); }
    });
  }

  // --- pin -----------------------------------------------------------------------------------

  function pin(form) {
    var item = form.closest(".convo-item");
    var pinned = form.querySelector("input[name=pinned]").value;
    post(form.action, { pinned: pinned }).then(function (result) {
      if (!result.ok) { failed(); return; }
      say(result.data.pinned ? i18n.pinned : i18n.unpinned, false);
      refresh(item.dataset.conversation);
    }).catch(failed);
  }

  // --- rename in place -----------------------------------------------------------------------

  function showTitle(id, title) {
    var item = itemById(id);
    var text = title || i18n.untitled;
    if (item) {
      item.querySelector("[data-title]").textContent = text;
      item.querySelector(".convo-menu-button").setAttribute("aria-label", i18n.options.replace("__TITLE__", text));
      item.classList.toggle("untitled", !title);
    }
    if (id === root.dataset.current) {
      var heading = document.querySelector(".chat-title");
      if (heading) {
        var before = heading.textContent;
        heading.textContent = text;
        if (document.title.indexOf(before) === 0) { document.title = text + document.title.slice(before.length); }
      }
    }
  }

  function rename(item) {
    closeMenus();
    var link = item.querySelector(".convo-link");
    var titleEl = item.querySelector("[data-title]");
    var old = item.classList.contains("untitled") ? "" : titleEl.textContent;
    var input = document.createElement("input");
    input.type = "text";
    input.className = "convo-rename";
    input.maxLength = 200;
    input.value = old;
    input.setAttribute("aria-label", i18n.renameLabel);
    link.hidden = true;
    item.insertBefore(input, link);
    input.focus();
    input.select();
    var done = false;

    function finish(title) {
      if (done) { return; }
      done = true;
      input.remove();
      link.hidden = false;
      if (title !== null) { showTitle(item.dataset.conversation, title); }
      var button = item.querySelector(".convo-menu-button");
      if (button) { button.focus(); }
    }

    function save() {
      var title = input.value.trim();
      if (!title || title === old) { finish(null); return; }
      input.disabled = true;
      post(item.dataset.renameUrl, { title: title }).then(function (result) {
        if (!result.ok) {
          input.disabled = false;
          say((result.data.errors || [i18n.failed]).join(" "), false);
          input.focus();
          return;
        }
        say(i18n.renamed, false);
        finish(result.data.title);
      }).catch(function () { input.disabled = false; failed(); });
    }

    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); save(); }
      if (event.key === "Escape") { event.preventDefault(); finish(null); }
    });
    input.addEventListener("blur", function () { if (!input.disabled) { save(); } });
  }

  // --- delete with undo ----------------------------------------------------------------------

  // Send the held delete now: when the toast expires, another delete starts, or the page is left.
  function flush(leaving) {
    if (!pending) { return; }
    var held = pending;
    pending = null;
    window.clearTimeout(held.timer);
    if (leaving && navigator.sendBeacon) {
      var body = new FormData();
      body.append("csrfmiddlewaretoken", csrfToken());
      navigator.sendBeacon(held.url, body);
      return;
    }
    fetch(held.url, {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
      keepalive: true
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      if (held.item) { held.item.remove(); }
      removeEmptyGroups();
      if (!leaving) { say("", false); }
      if (held.current) { window.location.assign(root.dataset.afterDelete); }
    }).catch(function () {
      if (held.item) { held.item.hidden = false; }
      failed();
    });
  }

  function removeEmptyGroups() {
    list.querySelectorAll(".convo-group").forEach(function (group) {
      if (!group.querySelector(".convo-item")) { group.remove(); }
    });
  }

  function remove(item, url) {
    closeMenus();
    flush(false);
    var id = item ? item.dataset.conversation : root.dataset.current;
    if (item) { item.hidden = true; }
    pending = {
      id: id,
      item: item,
      url: url,
      current: id === root.dataset.current,
      timer: window.setTimeout(function () { flush(false); }, UNDO_MS)
    };
    say(i18n.deleted, true);
    undoButton.focus();
  }

  function undo() {
    if (!pending) { return; }
    window.clearTimeout(pending.timer);
    var item = pending.item;
    pending = null;
    if (item) { item.hidden = false; }
    say(i18n.undone, false);
    var button = item && item.querySelector(".convo-menu-button");
    if (button) { button.focus(); }
  }

  // --- the generated title -------------------------------------------------------------------

  var polling = false;

  // While the open conversation has no title, ask for it a few times (the title is written in
  // the background right after the first answer).
  function pollTitle() {
    var url = root.dataset.titleUrl;
    var heading = document.querySelector(".chat-title");
    if (!url || polling || !heading || heading.dataset.titled === "1") { return; }
    polling = true;
    var attempt = 0;
    var delays = [800, 1200, 1600, 2000, 2500, 3000, 4000, 5000];
    function ask() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && data.title) {
            heading.dataset.titled = "1";
            polling = false;
            showTitle(root.dataset.current, data.title);
            return;
          }
          if (attempt < delays.length) { window.setTimeout(ask, delays[attempt++]); } else { polling = false; }
        })
        .catch(function () { polling = false; });
    }
    ask();
  }

  function watchTitle() {
    var current = root.dataset.current && itemById(root.dataset.current);
    var heading = document.querySelector(".chat-title");
    if (!heading || !root.dataset.titleUrl) { return; }
    if (current && !current.classList.contains("untitled")) { heading.dataset.titled = "1"; return; }
    pollTitle();
    // A finished answer is the moment a title gets written: ask again then.
    var messages = document.getElementById("messages");
    if (messages && window.MutationObserver) {
      new MutationObserver(function () {
        if (heading.dataset.titled !== "1" && !messages.querySelector(".msg-streaming, .msg-pending")) { pollTitle(); }
      }).observe(messages, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
    }
  }

  // --- wiring --------------------------------------------------------------------------------

  function init() {
    root = document.querySelector("[data-convo]");
    if (!root) { return; }
    list = root.querySelector("[data-convo-list]");
    panel = root.querySelector("[data-convo-panel]");
    toast = root.querySelector("[data-convo-toast]");
    toastText = toast.querySelector("[data-toast-text]");
    undoButton = toast.querySelector("[data-toast-undo]");
    i18n = root.querySelector("[data-convo-i18n]").dataset;
    root.dataset.afterDelete = root.querySelector(".convo-all a").getAttribute("href");

    // On a phone the list starts folded under its "Conversations" toggle.
    if (window.matchMedia && window.matchMedia(NARROW).matches) { panel.removeAttribute("open"); }

    root.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.matches("[data-action=pin]")) { event.preventDefault(); pin(form); }
      if (form.matches("[data-convo-search]")) { event.preventDefault(); window.clearTimeout(searchTimer); refresh(); }
    });
    root.addEventListener("click", function (event) {
      var action = event.target.closest("[data-action]");
      if (action && action.tagName === "A") {
        var item = action.closest(".convo-item");
        event.preventDefault();
        if (action.dataset.action === "rename") { rename(item); }
        if (action.dataset.action === "delete") { remove(item, item.dataset.deleteUrl); }
      }
    });
    root.addEventListener("toggle", function (event) {
      if (event.target.matches && event.target.matches(".convo-menu") && event.target.open) { closeMenus(event.target); }
    }, true);
    root.addEventListener("keydown", function (event) {
      var menu = event.target.closest && event.target.closest(".convo-menu[open]");
      if (event.key === "Escape" && menu) {
        menu.removeAttribute("open");
        menu.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", function (event) {
      if (!event.target.closest || !event.target.closest(".convo-menu")) { closeMenus(); }
    });
    var search = root.querySelector("[data-convo-search] input[type=search]");
    search.addEventListener("input", function () {
      window.clearTimeout(searchTimer);
      searchTimer = window.setTimeout(refresh, 250);
    });
    undoButton.addEventListener("click", undo);
    window.addEventListener("pagehide", function () { flush(true); });

    // The conversation header's Delete goes through the same undo toast (no confirm()).
    var headerDelete = document.querySelector('.chat-actions form[action$="/delete/"]');
    if (headerDelete) {
      headerDelete.removeAttribute("data-confirm");
      headerDelete.addEventListener("submit", function (event) {
        event.preventDefault();
        remove(itemById(root.dataset.current), headerDelete.action);
      });
    }

    var newChat = root.querySelector("[data-new-chat]");
    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && event.shiftKey && !event.altKey && (event.key === "O" || event.key === "o" || event.code === "KeyO")) {
        event.preventDefault();
        window.location.assign(newChat.href);
      }
    });

    watchTitle();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
