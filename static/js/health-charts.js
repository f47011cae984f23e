// Health charts with the vendored Chart.js: adherence per day (from /health/adherence.json) and
// measurements over time (from the JSON the page embeds), reference ranges shaded. Progressive
// enhancement: the tables hold every figure without this file.
(function () {
  "use strict";

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  // Shades [low, high] of the y axis (a plugin: no dependency beyond Chart.js itself).
  var bandPlugin = {
    id: "referenceBand",
    beforeDatasetsDraw: function (chart, args, options) {
      if (!options || !options.band) { return; }
      var y = chart.scales.y, area = chart.chartArea, ctx = chart.ctx;
      var top = y.getPixelForValue(options.band[1]), bottom = y.getPixelForValue(options.band[0]);
      ctx.save();
      ctx.fillStyle = options.color;
      ctx.fillRect(area.left, Math.max(top, area.top), area.right - area.left, Math.min(bottom, area.bottom) - Math.max(top, area.top));
      ctx.restore();
    }
  };

  function canvasIn(container, label) {
    var figure = document.createElement("figure");
    figure.className = "health-chart";
    var caption = document.createElement("figcaption");
    caption.textContent = label;
    var box = document.createElement("div");
    box.className = "health-chart-box";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", label);
    box.appendChild(canvas);
    figure.appendChild(caption);
    figure.appendChild(box);
    container.appendChild(figure);
    return canvas;
  }

  function adherence(container) {
    fetch(container.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var primary = cssVar("--primary", "#4f46e5"), danger = cssVar("--danger", "#b42318");
        data.medications.forEach(function (row) {
          if (container.dataset.only && container.dataset.only !== row.id) { return; }
          var series = row.series || [];
          var canvas = canvasIn(container, row.name + (row.percent === null ? "" : " · " + row.percent + " %"));
          new window.Chart(canvas, {
            type: "bar",
            data: {
              labels: series.map(function (p) { return p.date; }),
              datasets: [{
                label: row.name,
                data: series.map(function (p) { return p.percent; }),
                backgroundColor: series.map(function (p) { return p.percent !== null && p.percent < 80 ? danger : primary; })
              }]
            },
            options: {
              responsive: true, maintainAspectRatio: false, animation: reduceMotion ? false : { duration: 300 },
              scales: { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + " %"; } } } },
              plugins: { legend: { display: false }, referenceBand: { band: [0, 80], color: "rgba(180, 35, 24, .06)" } }
            },
            plugins: [bandPlugin]
          });
        });
      })
      .catch(function () { /* the table has the figures */ });
  }

  function measurementCharts(container) {
    var source = document.getElementById("measurement-charts");
    if (!source) { return; }
    var charts = JSON.parse(source.textContent);
    var primary = cssVar("--primary", "#4f46e5"), success = cssVar("--success", "#1b7f4b");
    var lang = document.documentElement.lang || undefined;
    charts.forEach(function (chart) {
      // points: three lists of one length, t (ms since the epoch), y, and y2 (diastolic) or null
      var points = chart.points;
      var canvas = canvasIn(container, chart.label);
      var datasets = [{ label: chart.label, data: points.y, borderColor: primary, backgroundColor: primary, tension: 0.2 }];
      if (points.y2.some(function (v) { return v !== null; })) {
        datasets.push({ label: container.dataset.secondLabel, data: points.y2, borderColor: success, backgroundColor: success, tension: 0.2 });
      }
      var labels = points.t.map(function (t) { return new Date(t).toLocaleDateString(lang); });
      new window.Chart(canvas, {
        type: "line",
        data: { labels: labels, datasets: datasets },
        options: {
          responsive: true, maintainAspectRatio: false, animation: reduceMotion ? false : { duration: 300 },
          plugins: { legend: { display: datasets.length > 1 }, referenceBand: { band: chart.band, color: "rgba(27, 127, 75, .12)" } }
        },
        plugins: [bandPlugin]
      });
    });
  }

  function start() {
    if (!window.Chart) { return; }
    document.querySelectorAll("[data-adherence-charts]").forEach(adherence);
    document.querySelectorAll("[data-measurement-charts]").forEach(measurementCharts);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
