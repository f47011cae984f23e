// Quick entry: show the inputs of the chosen kind of measurement (all are in the page without JS).
(function () {
  "use strict";
  var form = document.querySelector("form[data-measurement-form]");
  if (!form) { return; }
  var kind = form.querySelector("[name=type]");
  var uses = {
    WEIGHT: ["amount"], BLOOD_PRESSURE: ["systolic", "diastolic"], GLUCOSE: ["amount", "unit", "context"],
    HEART_RATE: ["amount"], TEMPERATURE: ["amount"], OXYGEN: ["amount"], OTHER: ["label", "amount", "other_unit"]
  };
  var optional = ["amount", "systolic", "diastolic", "unit", "context", "label", "other_unit"];
  function update() {
    var wanted = uses[kind.value] || optional;
    optional.forEach(function (name) {
      var input = form.querySelector("[name=" + name + "]");
      if (input) { input.closest(".field").hidden = wanted.indexOf(name) < 0; }
    });
  }
  kind.addEventListener("change", update);
  update();
})();
