/*
 * Manager dashboard charts (Chart.js, served from node_modules). The chart data comes from the
 * <script type="application/json" id="report-charts"> tag the page renders with json_script, so no inline
 * script runs. Each dataset carries `links`: clicking a bar, point or slice opens the list of the records
 * behind it.
 */
(function () {
  "use strict";

  function build(canvas, spec) {
    var datasets = spec.datasets.map(function (d) {
      return { label: d.label, data: d.data, links: d.links };
    });
    var options = {
      responsive: true,
      maintainAspectRatio: true,
      aspectRatio: spec.type === "doughnut" ? 2.5 : 3.5,
      onClick: function (event, elements, chart) {
        if (!elements.length) return;
        var el = elements[0];
        var links = chart.data.datasets[el.datasetIndex].links || [];
        var href = links[el.index];
        if (href) window.location.assign(href);
      },
      onHover: function (event, elements) {
        event.native.target.style.cursor = elements.length ? "pointer" : "default";
      },
      plugins: { legend: { position: "bottom" } },
    };
    if (spec.type === "bar") {
      options.indexAxis = spec.horizontal ? "y" : "x";
      options.scales = { x: { stacked: !!spec.stacked }, y: { stacked: !!spec.stacked, beginAtZero: true } };
    }
    if (spec.type === "line") {
      options.scales = { y: { beginAtZero: true, ticks: { precision: 0 } } };
      options.interaction = { mode: "nearest", intersect: true };
    }
    return new window.Chart(canvas, { type: spec.type, data: { labels: spec.labels, datasets: datasets }, options: options });
  }

  function init() {
    var source = document.getElementById("report-charts");
    if (!source || !window.Chart) return;
    var charts = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = charts[canvas.getAttribute("data-chart")];
      if (spec) canvas.chart = build(canvas, spec);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
