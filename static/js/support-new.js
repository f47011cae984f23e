// New ticket: while the title and description are typed, the help articles that match are listed.
(function () {
  "use strict";
  var form = document.querySelector("form[data-deflection-url]");
  if (!form) return;
  var url = form.getAttribute("data-deflection-url");
  var list = document.querySelector("[data-deflection-list]");
  var empty = document.querySelector("[data-deflection-empty]");
  var fields = form.querySelectorAll("[data-deflect]");
  var timer = null;
  var last = "";

  function query() {
    return Array.prototype.map.call(fields, function (f) { return f.value; }).join(" ").trim().slice(0, 2000);
  }

  function show(articles) {
    while (list.firstChild) list.removeChild(list.firstChild);
    articles.forEach(function (article) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = article.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = article.title;
      item.appendChild(link);
      list.appendChild(item);
    });
    if (empty) empty.hidden = articles.length > 0;
  }

  function lookup() {
    var q = query();
    if (q === last || q.length < 3) return;
    last = q;
    fetch(url + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && q === last) show(data.articles); })
      .catch(function () {});
  }

  Array.prototype.forEach.call(fields, function (field) {
    field.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookup, 400);
    });
  });
})();
