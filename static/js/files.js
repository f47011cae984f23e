// The file manager (/files/): drag-and-drop and one XHR upload per file with its own progress bar,
// then the list is refreshed in place; the storage chart from the JSON the page embeds. Without
// this file the plain multi-file form posts and the page reloads. Every text shown comes from the
// template (json_script "files-labels"), so it is translated.
(function () {
  "use strict";

  function labels() {
    var node = document.getElementById("files-labels");
    return node ? JSON.parse(node.textContent) : {};
  }

  function format(text, values) {
    return String(text || "").replace(/%\((\w+)\)s/g, function (_, key) { return values[key] === undefined ? "" : values[key]; });
  }

  function refreshList() {
    return fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["[data-files-section]", "[data-files-folders]", ".files-side"].forEach(function (selector) {
          var now = document.querySelector(selector);
          var next = fresh.querySelector(selector);
          if (now && next) { now.replaceWith(next); }
        });
        drawChart();
      })
      .catch(function () { /* the list stays as it was; a reload shows the files */ });
  }

  function uploadOne(form, file, row, text) {
    return new Promise(function (resolve) {
      var data = new FormData();
      form.querySelectorAll("input[type=hidden]").forEach(function (input) { data.append(input.name, input.value); });
      data.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      var bar = row.querySelector("progress");
      var status = row.querySelector("[data-status]");
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-File-Upload", "single");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) { bar.max = event.total; bar.value = event.loaded; }
      });
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (error) { body = {}; }
        bar.value = bar.max;
        var saved = (body.files || [])[0];
        if (xhr.status < 300 && saved) {
          row.classList.add(saved.existing ? "existing" : "done");
          var link = document.createElement("a");
          link.href = saved.url;
          link.textContent = format(saved.existing ? text.existing : text.done, { name: saved.name });
          status.replaceChildren(link);
          resolve(true);
        } else {
          row.classList.add("failed");
          status.textContent = (body.errors || []).join(" ") || format(text.failed, { name: file.name });
          resolve(false);
        }
      });
      xhr.addEventListener("error", function () {
        row.classList.add("failed");
        status.textContent = text.network;
        resolve(false);
      });
      xhr.send(data);
    });
  }

  function uploadAll(form, files) {
    var text = labels();
    var list = document.querySelector("[data-upload-list]");
    var limit = parseInt(form.getAttribute("data-max-file-size") || "0", 10);
    var jobs = [];
    Array.prototype.forEach.call(files, function (file) {
      var row = document.createElement("li");
      row.className = "files-progress-item";
      var name = document.createElement("span");
      name.className = "files-progress-name";
      name.textContent = format(text.uploading, { name: file.name });
      var bar = document.createElement("progress");
      bar.max = Math.max(file.size, 1); bar.value = 0;
      bar.setAttribute("aria-label", format(text.uploading, { name: file.name }));
      var status = document.createElement("span");
      status.setAttribute("data-status", "");
      status.className = "files-progress-status";
      row.append(name, bar, status);
      list.append(row);
      if (limit && file.size > limit) { // refused here; the server refuses it too, unread
        row.classList.add("failed");
        bar.max = 1; bar.value = 1;
        status.textContent = format(text.tooLarge, { name: file.name, limit: text.limit });
        return;
      }
      jobs.push(uploadOne(form, file, row, text));
    });
    return Promise.all(jobs).then(function (results) {
      if (results.some(Boolean)) { return refreshList(); }
      return null;
    });
  }

  function setUpUpload() {
    var form = document.querySelector(".files-upload-form");
    if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector("[data-drop-zone]");
    form.addEventListener("submit", function (event) {
      if (!input.files || !input.files.length) { return; }
      event.preventDefault();
      var chosen = Array.prototype.slice.call(input.files);
      input.value = "";
      uploadAll(form, chosen);
    });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
      if (event.dataTransfer && event.dataTransfer.files && event.dataTransfer.files.length) {
        uploadAll(form, Array.prototype.slice.call(event.dataTransfer.files));
      }
    });
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function drawChart() {
    var node = document.getElementById("files-chart-data");
    var canvas = document.getElementById("files-quota-chart");
    if (!node || !canvas || !window.Chart) { return; }
    var data = JSON.parse(node.textContent);
    var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var palette = [cssVar("--primary", "#4f46e5"), cssVar("--success", "#1b7f4b"), cssVar("--warning", "#b45309"),
      cssVar("--danger", "#b91c1c"), cssVar("--muted", "#5b6178"), "#0e7490", "#a21caf", "#4d7c0f"];
    var size = new Intl.NumberFormat(document.documentElement.lang || undefined, { maximumFractionDigits: 1 });
    function human(bytes) {
      var units = ["B", "KB", "MB", "GB", "TB"];
      var index = 0;
      while (bytes >= 1024 && index < units.length - 1) { bytes /= 1024; index += 1; }
      return size.format(bytes) + " " + units[index];
    }
    new window.Chart(canvas, {
      type: "doughnut",
      data: { labels: data.labels, datasets: [{ data: data.bytes, backgroundColor: palette.slice(0, data.bytes.length), borderColor: cssVar("--surface", "#fff") }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: reduce ? false : { duration: 400 },
        plugins: { legend: { position: "bottom", labels: { color: cssVar("--text", "#1c2033") } },
          tooltip: { callbacks: { label: function (item) { return item.label + ": " + human(item.raw); } } } }
      }
    });
  }

  function start() {
    setUpUpload();
    drawChart();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
