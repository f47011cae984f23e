// Charts of the Usage page, drawn with the vendored Chart.js from the JSON the page embeds
// (json_script). Progressive enhancement: the data tables work without this file. Colours come
// from app.css's custom properties, so the charts follow prefers-color-scheme; animation is off
// under prefers-reduced-motion. Both are re-read when the preference changes.
(function () {
  "use strict";

  var charts = [];

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function numberFormat(options) {
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined, options);
    } catch (error) {
      return new Intl.NumberFormat(undefined, options);
    }
  }

  function onChange(query, callback) {
    if (query.addEventListener) {
      query.addEventListener("change", callback);
    } else if (query.addListener) { // Safari < 14
      query.addListener(callback);
    }
  }

  function draw(data, reduceMotion) {
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];

    var Chart = window.Chart;
    var primary = cssVar("--primary", "#4f46e5");
    var success = cssVar("--success", "#1b7f4b");
    var muted = cssVar("--muted", "#5b6178");
    var border = cssVar("--border", "#dfe2ec");
    var surface = cssVar("--surface", "#ffffff");
    var text = cssVar("--text", "#1c2033");
    var integer = numberFormat({ maximumFractionDigits: 0 });
    var money = numberFormat({ style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 4 });

    Chart.defaults.color = muted;
    Chart.defaults.borderColor = border;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;

    function options(format, horizontal) {
      var valueAxis = {
        beginAtZero: true,
        grid: { color: border },
        ticks: { color: muted, precision: format === integer ? 0 : undefined, callback: function (value) { return format.format(value); } }
      };
      var categoryAxis = { grid: { display: false }, ticks: { color: muted, autoSkip: true, maxRotation: 0 } };
      return {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 400 },
        indexAxis: horizontal ? "y" : "x",
        scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
        plugins: {
          legend: { display: false },
          tooltip: {
            backgroundColor: surface,
            titleColor: text,
            bodyColor: text,
            borderColor: border,
            borderWidth: 1,
            callbacks: {
              label: function (context) {
                var value = horizontal ? context.parsed.x : context.parsed.y;
                return context.dataset.label + ": " + format.format(value);
              }
            }
          }
        }
      };
    }

    function make(id, config) {
      var canvas = document.getElementById(id);
      if (canvas) {
        charts.push(new Chart(canvas, config));
      }
    }

    make("chart-tokens-day", {
      type: "bar",
      data: { labels: data.days.labels, datasets: [{ label: data.text.tokens, data: data.days.tokens, backgroundColor: primary, borderRadius: 3, maxBarThickness: 28 }] },
      options: options(integer, false)
    });
    make("chart-cost-day", {
      type: "bar",
      data: { labels: data.days.labels, datasets: [{ label: data.text.cost, data: data.days.cost, backgroundColor: success, borderRadius: 3, maxBarThickness: 28 }] },
      options: options(money, false)
    });

    // One bar per agent: give each agent room instead of squeezing a fixed-height box.
    var agentCanvas = document.getElementById("chart-tokens-agent");
    if (agentCanvas && agentCanvas.parentElement) {
      agentCanvas.parentElement.style.height = Math.max(160, 44 * data.agents.labels.length + 60) + "px";
    }
    make("chart-tokens-agent", {
      type: "bar",
      data: { labels: data.agents.labels, datasets: [{ label: data.text.tokens, data: data.agents.tokens, backgroundColor: primary, borderRadius: 3, maxBarThickness: 32 }] },
      options: options(integer, true)
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("usage-chart-data");
    var container = document.querySelector(".charts");
    if (!source || !container || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var dark = window.matchMedia("(prefers-color-scheme: dark)");
    var reduce = window.matchMedia("(prefers-reduced-motion: reduce)");

    function render() {
      // The boxes must be visible (sized) before Chart.js measures them.
      container.classList.add("charts-ready");
      try {
        draw(data, reduce.matches);
      } catch (error) {
        container.classList.remove("charts-ready");
        throw error;
      }
    }

    render();
    onChange(dark, render);
    onChange(reduce, render);
  });
})();
