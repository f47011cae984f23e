// A ticket's page: new replies from support appear without reloading (polls the messages endpoint).
(function () {
  "use strict";
  var root = document.querySelector("[data-poll-url]");
  if (!root) return;
  var list = root.querySelector("[data-conversation]");
  var empty = root.querySelector("[data-conversation-empty]");
  var status = root.querySelector("[data-ticket-status]");
  var url = root.getAttribute("data-poll-url");
  var after = root.getAttribute("data-last-seen");
  var interval = parseInt(root.getAttribute("data-poll-interval") || "10000", 10);
  var busy = false;

  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(url + "?after=" + encodeURIComponent(after), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        data.messages.forEach(function (message) {
          if (document.getElementById("message-" + message.id)) return;
          var holder = document.createElement("template");
          holder.innerHTML = message.html.trim(); // rendered and escaped by the server
          list.appendChild(holder.content.firstElementChild);
          after = message.created_at;
        });
        if (data.messages.length && empty) empty.hidden = true;
        if (status && data.status_label && status.textContent !== data.status_label) {
          status.textContent = data.status_label;
          status.className = "badge support-status support-status-" + data.status.toLowerCase();
        }
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { busy = false; });
  }

  window.setInterval(poll, interval);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
})();
