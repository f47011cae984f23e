// Documents pages: while documents are queued or being indexed, poll their state and update the page.
// Progressive enhancement: without JavaScript the "Refresh" link reloads the page instead.
(function () {
  "use strict";

  var INTERVAL = 1500;
  var MAX_BACKOFF = 15000;
  var PENDING = { QUEUED: true, INDEXING: true };

  function format(template, values) {
    return String(template || "")
      .replace(/%\((\w+)\)s/g, function (match, key) { return key in values ? String(values[key]) : match; })
      .replace(/%%/g, "%");
  }

  function stateText(labels, item) {
    if (item.status === "INDEXING") { return format(labels.INDEXING, { progress: item.progress }); }
    if (item.status === "INDEXED") {
      return format(item.chunk_count === 1 ? labels.INDEXED_ONE : labels.INDEXED_OTHER, { count: item.chunk_count });
    }
    if (item.status === "FAILED") { return format(labels.FAILED, { reason: item.error || "" }); }
    return labels.QUEUED || item.status;
  }

  function updateRow(row, item, labels) {
    row.setAttribute("data-status", item.status);
    var state = row.querySelector("[data-doc-state]");
    if (state) {
      state.className = "doc-state doc-state-" + item.status.toLowerCase();
    }
    var text = row.querySelector("[data-state-text]");
    if (text) { text.textContent = stateText(labels, item); }
    var progress = row.querySelector("[data-state-progress]");
    if (progress) {
      progress.hidden = !PENDING[item.status];
      if (item.status === "INDEXING") {
        progress.value = item.progress;
        progress.textContent = item.progress + "%";
      } else {
        progress.removeAttribute("value");  // indeterminate while queued
      }
    }
  }

  function announce(live, labels, row, item) {
    if (!live) { return; }
    var title = row.getAttribute("data-title") || "";
    live.textContent = item.status === "INDEXED"
      ? format(labels.announce_indexed, { title: title })
      : format(labels.announce_failed, { title: title, reason: item.error || "" });
  }

  function finished(container) {
    document.querySelectorAll("[data-refresh-link]").forEach(function (link) { link.hidden = true; });
    var notice = document.querySelector("[data-reload-notice]");
    if (notice) {
      notice.hidden = false;
      var waiting = document.querySelector("[data-passages-pending]");
      if (waiting) { waiting.hidden = true; }
    }
    container.removeAttribute("aria-busy");
  }

  function start(container) {
    var url = container.getAttribute("data-status-url");
    var labelsNode = document.getElementById("documents-labels");
    if (!url || !labelsNode || !window.fetch) { return; }
    var labels = JSON.parse(labelsNode.textContent);
    var live = document.getElementById("documents-live");
    var rows = {};
    document.querySelectorAll("[data-document-id]").forEach(function (row) {
      if (PENDING[row.getAttribute("data-status")]) { rows[row.getAttribute("data-document-id")] = row; }
    });
    var delay = INTERVAL;

    function pendingIds() { return Object.keys(rows); }

    function schedule(wait) { window.setTimeout(poll, wait); }

    function poll() {
      var ids = pendingIds();
      if (!ids.length) { finished(container); return; }
      if (document.hidden) { schedule(INTERVAL); return; }  // no requests from a background tab
      container.setAttribute("aria-busy", "true");
      window.fetch(url + "?ids=" + encodeURIComponent(ids.join(",")), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        redirect: "error",  // a redirect means the session ended: stop, the Refresh link remains
      }).then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      }).then(function (items) {
        var seen = {};
        items.forEach(function (item) {
          var row = rows[item.id];
          if (!row) { return; }
          seen[item.id] = true;
          updateRow(row, item, labels);
          if (!PENDING[item.status]) {
            announce(live, labels, row, item);
            delete rows[item.id];
          }
        });
        // A document missing from the answer was deleted meanwhile: stop asking for it.
        ids.forEach(function (id) { if (!seen[id]) { delete rows[id]; } });
        delay = INTERVAL;
        schedule(delay);
      }).catch(function () {
        delay = Math.min(delay * 2, MAX_BACKOFF);
        if (delay < MAX_BACKOFF) { schedule(delay); } else { container.removeAttribute("aria-busy"); }
      });
    }

    if (pendingIds().length) { schedule(INTERVAL); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var container = document.querySelector("[data-documents-poll]");
    if (container) { start(container); }
  });
})();
