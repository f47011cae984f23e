/* The chat's source panel: a source chip under an answer, or an inline [n] citation of it, opens
   the cited passages in a side panel (a sheet on phones) without leaving the chat. The chips are
   the server's (chats/sources.py, in the page and in the stream's final list item), so clicks are
   handled on the document: an answer streamed in later works the same. Without JavaScript (or a
   browser without <dialog>) a chip is a link to its passage on the document's page. */
(function () {
  "use strict";

  var panel = document.getElementById("source-panel");
  if (!panel || typeof panel.showModal !== "function") { return; }
  var title = document.getElementById("source-panel-title");
  var body = panel.querySelector("[data-source-body]");
  var closeButton = panel.querySelector("[data-source-close]");
  var opener = null;

  function passagesOf(chip) {
    try {
      var list = JSON.parse(chip.getAttribute("data-passages") || "[]");
      return Array.isArray(list) ? list.filter(function (p) { return p && typeof p.url === "string" && p.url.charAt(0) === "/" && p.url.charAt(1) !== "/"; }) : [];
    } catch (error) {
      return [];
    }
  }

  function load(url) {
    // Asked each time: a document deleted or indexed again since shows as it is now.
    return fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) {
        // 404 is the "no longer available" panel; a redirect (signed out) or an error is not a panel.
        if (response.redirected || !(response.ok || response.status === 404)) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        if (html.indexOf("data-passage-panel") === -1) { throw new Error("not a passage panel"); }
        return html;
      });
  }

  function section(passage) {
    var node = document.createElement("section");
    node.className = "source-panel-passage";
    node.setAttribute("data-number", String(passage.n));
    var label = document.createElement("h3");
    label.className = "source-panel-number";
    label.textContent = "[" + passage.n + "]";
    var content = document.createElement("div");
    content.className = "source-panel-content";
    content.setAttribute("aria-busy", "true");
    content.textContent = panel.getAttribute("data-loading") || "";
    node.appendChild(label);
    node.appendChild(content);
    load(passage.url).then(function (html) {
      content.innerHTML = html; // the passage panel endpoint's own escaped HTML (rag/_passage_panel.html)
    }, function () {
      content.textContent = panel.getAttribute("data-failed") || "";
      content.classList.add("error");
    }).then(function () { content.removeAttribute("aria-busy"); });
    return node;
  }

  function open(heading, passages, from) {
    opener = from;
    title.textContent = heading;
    body.textContent = "";
    passages.forEach(function (passage) { body.appendChild(section(passage)); });
    body.scrollTop = 0;
    if (!panel.open) { panel.showModal(); }
    closeButton.focus();
  }

  function chipTitle(chip) {
    var named = chip.querySelector(".source-chip-title");
    return chip.getAttribute("data-title") || (named ? named.textContent : "");
  }

  function chipFor(link) {
    // The chip of the same answer that lists the link's number, and that number's passage.
    var item = link.closest(".msg");
    var number = parseInt((link.textContent || "").replace(/[^0-9]/g, ""), 10);
    if (!item || isNaN(number)) { return null; }
    var chips = item.querySelectorAll(".msg-sources a.source-chip[data-passages]");
    for (var i = 0; i < chips.length; i += 1) {
      var passages = passagesOf(chips[i]);
      for (var j = 0; j < passages.length; j += 1) {
        if (Number(passages[j].n) === number) { return { chip: chips[i], passage: passages[j] }; }
      }
    }
    return null;
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) { return; }
    var link = event.target instanceof Element ? event.target.closest("a") : null;
    if (!link) { return; }
    if (link.classList.contains("source-chip")) {
      var passages = passagesOf(link);
      if (!passages.length) { return; } // not a passage of the person's documents: the link as is
      event.preventDefault();
      open(chipTitle(link), passages, link);
    } else if (link.classList.contains("citation-link") && link.closest(".msg-body")) {
      var found = chipFor(link);
      if (!found) { return; }
      event.preventDefault();
      open(chipTitle(found.chip), [found.passage], link);
    }
  });

  closeButton.addEventListener("click", function () { panel.close(); });
  panel.addEventListener("click", function (event) {
    if (event.target === panel) { panel.close(); } // the backdrop (the panel's content fills the dialog)
  });
  panel.addEventListener("close", function () {
    // Escape closes a modal dialog by itself; either way the focus goes back where it came from.
    if (opener && opener.isConnected) { opener.focus(); }
    opener = null;
  });
})();
