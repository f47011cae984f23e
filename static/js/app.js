// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";
  var WIDE = window.matchMedia("(min-width: 960px)");

  function remember(key, value) {
    try { window.localStorage.setItem(key, value); } catch (error) { /* storage blocked */ }
  }

  // The sidebar: a drawer on phones (opens over the page, Escape or the backdrop closes it),
  // collapsible on wide screens (remembered in localStorage, restored early by theme.js).
  function setUpSidebar() {
    var toggle = document.querySelector(".nav-toggle");
    var sidebar = document.getElementById("sidebar");
    var backdrop = document.querySelector(".sidebar-backdrop");
    if (!toggle || !sidebar) { return; }
    var root = document.documentElement;

    // A control Tab can reach: shown, enabled, and not in the folded part of a closed <details>.
    function reachable(el) {
      if (el.disabled || el.type === "hidden") { return false; }
      for (var node = el.parentElement; node && node !== sidebar; node = node.parentElement) {
        if (node.tagName === "DETAILS" && !node.open && !(el.closest("summary") && el.closest("summary").parentElement === node)) {
          return false;
        }
      }
      return el.checkVisibility ? el.checkVisibility({ visibilityProperty: true }) : el.offsetParent !== null;
    }
    function drawerOpen() { return root.classList.contains("drawer-open"); }
    function sync() {
      var expanded = WIDE.matches ? !root.classList.contains("sidebar-collapsed") : drawerOpen();
      toggle.setAttribute("aria-expanded", expanded ? "true" : "false");
      toggle.setAttribute("aria-label", expanded ? toggle.dataset.labelClose : toggle.dataset.labelOpen);
      if (backdrop) { backdrop.hidden = WIDE.matches || !drawerOpen(); }
      // While the drawer is open the page behind it is out of reach (focus, clicks, screen readers).
      document.querySelectorAll(".shell-main, .topbar").forEach(function (el) { el.inert = !WIDE.matches && drawerOpen(); });
    }
    function openDrawer() {
      root.classList.add("drawer-open");
      sync();
      var first = Array.prototype.find.call(sidebar.querySelectorAll("a, button, summary, select, input"), reachable);
      if (first) { first.focus(); }
    }
    function closeDrawer(returnFocus) {
      if (!drawerOpen()) { return; }
      root.classList.remove("drawer-open");
      sync();
      if (returnFocus) { toggle.focus(); }
    }

    toggle.addEventListener("click", function () {
      if (WIDE.matches) {
        var collapsed = root.classList.toggle("sidebar-collapsed");
        remember("sidebar", collapsed ? "collapsed" : "open");
        sync();
      } else if (drawerOpen()) {
        closeDrawer(true);
      } else {
        openDrawer();
      }
    });
    document.querySelectorAll("[data-sidebar-close]").forEach(function (el) {
      el.addEventListener("click", function () { closeDrawer(true); });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      var menu = document.querySelector("details.menu[open]");
      if (menu) {
        menu.open = false;
        menu.querySelector("summary").focus();
      } else if (drawerOpen()) {
        closeDrawer(true);
      }
    });
    // Tab from the drawer's last control goes back to its first: focus stays in the open drawer.
    sidebar.addEventListener("keydown", function (event) {
      if (event.key !== "Tab" || WIDE.matches || !drawerOpen()) { return; }
      var focusable = Array.prototype.filter.call(sidebar.querySelectorAll("a, button, summary, select, input"), reachable);
      if (!focusable.length) { return; }
      var first = focusable[0], last = focusable[focusable.length - 1];
      if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
    });
    WIDE.addEventListener("change", function () { root.classList.remove("drawer-open"); sync(); });
    sync();
  }

  // Language and theme apply on change; their buttons stay for keyboard and no-JS use.
  function setUpPreferences() {
    var select = document.getElementById("language-select");
    if (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    }
    document.querySelectorAll(".theme-form input[name=theme]").forEach(function (input) {
      input.addEventListener("change", function () {
        // Shown at once; the form post stores the cookie the server renders on every page.
        document.documentElement.dataset.theme = input.value;
        input.form.submit();
      });
    });
  }

  // The start page's composer: Enter sends, Shift+Enter adds a line (as in the chat).
  function setUpHomeComposer() {
    var form = document.getElementById("home-composer");
    if (!form) { return; }
    var textarea = form.querySelector("textarea");
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit(form.querySelector("button[type=submit]:not(.starter)"));
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpSidebar();
    setUpPreferences();
    setUpHomeComposer();
  });
})();

// Forms that destroy something ask first (data-confirm holds the question).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
