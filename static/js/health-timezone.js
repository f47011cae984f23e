// Account settings: an unset time zone defaults to the browser's (the person still saves the form).
(function () {
  "use strict";
  var select = document.querySelector("select[data-browser-time-zone]");
  if (!select || select.value) { return; }
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { zone = ""; }
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === zone) { select.value = zone; select.dataset.fromBrowser = "1"; return; }
  }
})();
