// Medication form: show only the fields the chosen frequency uses (all stay in the page without JS).
(function () {
  "use strict";
  var form = document.querySelector("form[data-medication-form]");
  if (!form) { return; }
  var frequency = form.querySelector("[name=frequency]");
  function field(name) {
    var input = form.querySelector("[name=" + name + "]");
    return input ? input.closest(".field") : null;
  }
  function update() {
    var value = frequency.value;
    var show = {
      times: value !== "as_needed",
      interval_hours: value === "interval",
      weekdays: value === "weekdays",
      reminder_enabled: value !== "as_needed"
    };
    Object.keys(show).forEach(function (name) {
      var box = field(name);
      if (box) { box.hidden = !show[name]; }
    });
  }
  frequency.addEventListener("change", update);
  update();
})();
