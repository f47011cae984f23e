// Loaded in <head> without defer, before the stylesheet paints: it only sets classes on <html>.
// The theme itself is server-rendered (data-theme from the "theme" cookie); this marks that
// scripts run and restores the sidebar's collapsed state on wide screens, so neither flashes.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  try {
    if (window.localStorage.getItem("sidebar") === "collapsed") {
      root.classList.add("sidebar-collapsed");
    }
  } catch (error) { /* storage blocked: the sidebar stays open */ }
})();
