// Profile form: show the height inputs of the chosen unit (cm, or feet and inches); all stay in the page without JS.
(function () {
  "use strict";
  var form = document.querySelector("form[data-profile-form]");
  if (!form) { return; }
  var unit = form.querySelector("[name=height_unit]");
  function box(name) {
    var input = form.querySelector("[name=" + name + "]");
    return input ? input.closest(".field") : null;
  }
  function update() {
    var feet = unit.value === "ft_in";
    [["height", !feet], ["height_feet", feet], ["height_inches", feet]].forEach(function (pair) {
      var field = box(pair[0]);
      if (field) { field.hidden = !pair[1]; }
    });
  }
  unit.addEventListener("change", update);
  update();
})();
