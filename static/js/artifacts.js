// Artifacts: copy, sortable tables, Mermaid diagrams drawn as inert images, and the chat's side
// panel (templates/artifacts/, artifacts/rendering.py).
//
// Mermaid (static/vendor/mermaid/, loaded only when a page holds a diagram) runs with
// securityLevel "strict" and no HTML labels; the SVG it draws is shown as an <img> from a data:
// URL, so a diagram can run nothing, follow no click callback and load nothing. On the chat page
// ```mermaid blocks of answers are drawn the same way once the answer has finished (the
// "chat:answer" event of static/js/chat.js).
(function () {
  "use strict";
  var script = document.getElementById("artifacts-js");
  var mermaidSrc = script ? script.getAttribute("data-mermaid-src") : "";
  var mermaidLoading = null;
  var diagramCount = 0;
  var WIDE = "(min-width: 1100px)";

  function loadMermaid() {
    if (window.mermaid) { return Promise.resolve(window.mermaid); }
    if (!mermaidSrc) { return Promise.reject(new Error("no mermaid")); }
    if (!mermaidLoading) {
      mermaidLoading = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = mermaidSrc;
        tag.onload = function () {
          window.mermaid.initialize({
            startOnLoad: false, securityLevel: "strict", htmlLabels: false,
            flowchart: { htmlLabels: false }, maxTextSize: 50000,
            theme: document.documentElement.dataset.theme === "dark" ? "dark" : "default"
          });
          resolve(window.mermaid);
        };
        tag.onerror = reject;
        document.head.appendChild(tag);
      });
    }
    return mermaidLoading;
  }

  function drawDiagram(holder, source, failedText) {
    if (holder.dataset.drawn) { return; }
    holder.dataset.drawn = "1";
    loadMermaid().then(function (mermaid) {
      diagramCount += 1;
      return mermaid.render("artifact-diagram-" + diagramCount, source);
    }).then(function (result) {
      var image = document.createElement("img");
      image.className = "mermaid-image";
      image.alt = source.split("\n")[0].slice(0, 120);
      image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(result.svg);
      holder.insertBefore(image, holder.firstChild);
      holder.classList.add("mermaid-drawn");
    }).catch(function () {
      holder.classList.add("mermaid-failed");
      if (failedText) {
        var note = document.createElement("p");
        note.className = "muted";
        note.textContent = failedText;
        holder.insertBefore(note, holder.firstChild);
      }
    });
  }

  function drawDiagrams(scope) {
    Array.prototype.forEach.call(scope.querySelectorAll("[data-mermaid]"), function (holder) {
      var code = holder.querySelector("code");
      if (code) { drawDiagram(holder, code.textContent, holder.dataset.failed); }
    });
    // ```mermaid blocks of finished chat answers (never one still streaming).
    Array.prototype.forEach.call(scope.querySelectorAll(".msg-assistant:not(.msg-streaming) code.language-mermaid"), function (code) {
      var pre = code.closest("pre");
      if (!pre || pre.parentNode.classList.contains("mermaid-diagram")) { return; }
      var holder = document.createElement("div");
      holder.className = "mermaid-diagram";
      pre.parentNode.insertBefore(holder, pre);
      holder.appendChild(pre);
      drawDiagram(holder, code.textContent, "");
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) { return navigator.clipboard.writeText(text); }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy"));
  }

  function flash(button, text) {
    var before = button.textContent;
    button.textContent = text;
    window.setTimeout(function () { button.textContent = before; }, 1500);
  }

  function wire(scope) {
    Array.prototype.forEach.call(scope.querySelectorAll("[data-artifact-copy]"), function (button) {
      if (button.dataset.wired) { return; }
      button.dataset.wired = "1";
      var article = button.closest(".artifact");
      var source = article && article.querySelector("template[data-artifact-source]");
      if (!source) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        copyText(source.content.textContent).then(function () { flash(button, button.dataset.copied); },
          function () { flash(button, button.dataset.failed); });
      });
    });
    Array.prototype.forEach.call(scope.querySelectorAll("[data-copy-link]"), function (button) {
      if (button.dataset.wired) { return; }
      button.dataset.wired = "1";
      var input = button.parentNode.querySelector("[data-share-link]");
      button.addEventListener("click", function () {
        copyText(input.value).then(function () { flash(button, button.dataset.copied); }, function () { input.select(); });
      });
    });
    Array.prototype.forEach.call(scope.querySelectorAll("table[data-sortable]"), function (table) {
      if (table.dataset.wired) { return; }
      table.dataset.wired = "1";
      table.addEventListener("click", function (event) {
        var button = event.target.closest(".table-sort");
        if (!button) { return; }
        var column = Number(button.dataset.column);
        var ascending = button.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.querySelectorAll(".table-sort"), function (b) { b.removeAttribute("aria-sort"); b.parentNode.removeAttribute("aria-sort"); });
        button.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        button.parentNode.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true, sensitivity: "base" });
        rows.sort(function (a, b) {
          var x = a.cells[column] ? a.cells[column].textContent : "";
          var y = b.cells[column] ? b.cells[column].textContent : "";
          var nx = parseFloat(x), ny = parseFloat(y);
          var order = (!isNaN(nx) && !isNaN(ny) && String(nx) === x.trim() && String(ny) === y.trim()) ? nx - ny : collator.compare(x, y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
    drawDiagrams(scope);
  }

  // --- the chat's side panel ---------------------------------------------------------------------
  var panel = null;

  function panelBody() { return panel.querySelector("[data-artifact-panel-body]"); }

  function openPanel(url, focus) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      var template = document.createElement("template");
      template.innerHTML = html;
      var body = panelBody();
      body.replaceChildren(template.content);
      panel.hidden = false;
      document.body.classList.add("artifact-panel-open");
      var shown = body.querySelector(".artifact[data-root]");
      panel.dataset.root = shown ? shown.dataset.root : "";
      wire(body);
      if (focus) { panel.querySelector("[data-artifact-panel-close]").focus(); }
    }).catch(function () {
      panelBody().textContent = panel.dataset.failed;
      panel.hidden = false;
    });
  }

  function closePanel() {
    panel.hidden = true;
    document.body.classList.remove("artifact-panel-open");
    panel.dataset.current = "";
  }

  function onChatClick(event) {
    if (!window.matchMedia(WIDE).matches) { return; } // on a phone the link opens its own page
    var card = event.target.closest("[data-artifact-open]");
    var list = event.target.closest("[data-artifact-list]");
    if (card && panel.dataset.panelPattern) {
      event.preventDefault();
      panel.dataset.current = card.dataset.artifactOpen;
      openPanel(panel.dataset.panelPattern.replace("00000000-0000-0000-0000-000000000000", card.dataset.artifactOpen), true);
    } else if (list) {
      event.preventDefault();
      panel.dataset.current = "list";
      openPanel(list.dataset.artifactList, true);
    }
  }

  function onAnswer(event) {
    var item = event.detail && event.detail.element;
    if (item) { wire(item); }
    // The panel follows the answer: its newest artifact, or the refreshed list.
    var cards = item ? item.querySelectorAll("[data-artifact-open]") : [];
    if (!panel || !window.matchMedia(WIDE).matches) { return; }
    if (panel.dataset.current === "list") {
      openPanel(panel.dataset.listUrl, false);
    } else if (cards.length && !panel.hidden) {
      // The new version of the artifact shown, or else the answer's last artifact.
      var chosen = cards[cards.length - 1];
      Array.prototype.forEach.call(cards, function (card) {
        if (panel.dataset.root && card.dataset.artifactRoot === panel.dataset.root) { chosen = card; }
      });
      panel.dataset.current = chosen.dataset.artifactOpen;
      openPanel(panel.dataset.panelPattern.replace("00000000-0000-0000-0000-000000000000", chosen.dataset.artifactOpen), false);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    wire(document);
    panel = document.getElementById("artifact-panel");
    if (panel) {
      document.addEventListener("click", onChatClick);
      panel.querySelector("[data-artifact-panel-close]").addEventListener("click", closePanel);
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && !panel.hidden && panel.contains(document.activeElement)) { closePanel(); }
      });
    }
    document.addEventListener("chat:answer", onAnswer);
  });
  window.cjhArtifacts = { wire: wire };
})();
