// "Save as artifact" on the chat's messages: a button added to a message's actions here when it is
// pointed at or reached (the server's 500-message page carries none), posting the page's one #artifact-save-form with the
// message's selected text when the selection lies inside that message, its whole text otherwise.
(function () {
  "use strict";
  var form = null;

  function selectionIn(item) {
    var selection = window.getSelection ? window.getSelection() : null;
    if (!selection || selection.isCollapsed || !selection.rangeCount) { return ""; }
    var range = selection.getRangeAt(0);
    var body = item.querySelector(".msg-body");
    return body && body.contains(range.commonAncestorContainer) ? selection.toString() : "";
  }

  function addButton(item) {
    var actions = item.querySelector(".msg-actions");
    var id = item.getAttribute("data-message-id");
    if (!actions || !id || actions.querySelector(".msg-save-artifact")) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "msg-action msg-save-artifact";
    button.textContent = form.dataset.label;
    // Remember the selection before the press moves focus (mousedown comes first).
    button.addEventListener("mousedown", function () { button.dataset.selection = selectionIn(item); });
    button.addEventListener("click", function () {
      var text = button.dataset.selection || selectionIn(item);
      form.action = form.dataset.urlPattern.replace("00000000-0000-0000-0000-000000000000", id);
      form.querySelector("[name=selection]").value = text;
      form.submit();
    });
    actions.appendChild(button);
  }

  document.addEventListener("DOMContentLoaded", function () {
    form = document.getElementById("artifact-save-form");
    if (!form) { return; }
    var list = document.getElementById("messages");
    if (list) {
      // Added when a message is pointed at, touched or reached with the keyboard (its other actions
      // take focus first), not for all 500 messages of a long page at load.
      ["pointerover", "focusin", "touchstart"].forEach(function (name) {
        list.addEventListener(name, function (event) {
          var item = event.target.closest && event.target.closest(".msg[data-message-id]");
          if (item) { addButton(item); }
        }, { passive: true });
      });
    }
    document.addEventListener("chat:answer", function (event) {
      var item = event.detail && event.detail.element;
      if (item) { addButton(item); }
    });
  });
})();
