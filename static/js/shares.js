// Share links: the "Copy" button next to a new link (the field stays selectable without it).
(function () {
  "use strict";
  function init(panel) {
    var button = panel.querySelector("[data-share-copy]");
    var field = panel.querySelector("[data-share-url]");
    if (!button || !field || button.dataset.ready) return;
    button.dataset.ready = "1";
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      field.select();
      var done = function () {
        button.textContent = button.dataset.labelDone || label;
        window.setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  }
  function start() { document.querySelectorAll("[data-share-panel]").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
