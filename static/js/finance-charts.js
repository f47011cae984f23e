// Finance charts (reports, a debt's schedule, the investment allocation), drawn with the vendored
// Chart.js from the JSON each page embeds (json_script). Progressive enhancement: every chart has
// its numbers in a table beside it. Colours come from app.css's custom properties.
(function () {
  "use strict";

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function numbers(list) {
    return list.map(function (value) { return Number(value); });
  }

  function draw() {
    var Chart = window.Chart;
    if (!Chart) { return; }
    var primary = cssVar("--primary", "#4f46e5");
    var success = cssVar("--success", "#1b7f4b");
    var danger = cssVar("--danger", "#b42318");
    var muted = cssVar("--muted", "#5b6178");
    var border = cssVar("--border", "#dfe2ec");
    var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    Chart.defaults.color = muted;
    Chart.defaults.borderColor = border;
    var base = { responsive: true, maintainAspectRatio: false, animation: reduce ? false : { duration: 300 } };

    function chart(id, config) {
      var canvas = document.getElementById(id);
      if (canvas) { new Chart(canvas, Object.assign({ options: base }, config)); }
    }

    var report = data("finance-report-data");
    if (report) {
      chart("chart-months", { type: "bar", data: { labels: report.months.labels, datasets: [
        { label: "+", data: numbers(report.months.income), backgroundColor: success },
        { label: "−", data: numbers(report.months.expense), backgroundColor: danger }] } });
      chart("chart-categories", { type: "bar", data: { labels: report.categories.labels, datasets: [
        { label: report.currency, data: numbers(report.categories.values), backgroundColor: primary }] },
        options: Object.assign({}, base, { indexAxis: "y", plugins: { legend: { display: false } } }) });
      chart("chart-worth", { type: "line", data: { labels: report.worth.labels, datasets: [
        { label: report.currency, data: numbers(report.worth.values), borderColor: primary, fill: false }] },
        options: Object.assign({}, base, { plugins: { legend: { display: false } } }) });
      chart("chart-budgets", { type: "bar", data: { labels: report.budgets.labels, datasets: [
        { label: "%", data: report.budgets.values, backgroundColor: primary }] },
        options: Object.assign({}, base, { plugins: { legend: { display: false } } }) });
    }
    var debt = data("finance-debt-data");
    if (debt) {
      chart("chart-debt", { type: "line", data: { labels: debt.labels, datasets: [
        { label: "balance", data: numbers(debt.balance), borderColor: primary, pointRadius: 0, fill: false },
        { label: "interest", data: numbers(debt.interest), borderColor: danger, pointRadius: 0, fill: false }] } });
    }
    var allocation = data("finance-allocation-data");
    if (allocation) {
      chart("chart-allocation", { type: "doughnut", data: { labels: allocation.labels, datasets: [
        { data: numbers(allocation.values), backgroundColor: [primary, success, danger, muted, "#d97706", "#0891b2", "#7c3aed"] }] } });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
