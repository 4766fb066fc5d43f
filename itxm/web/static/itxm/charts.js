// Draws every ECharts option the page carries (see itxm/web/charts.py) and keeps the charts sized.
(function () {
  "use strict";
  var drawn = [];

  function draw(root) {
    root.querySelectorAll("[data-chart]").forEach(function (box) {
      if (box.dataset.drawn) return;
      var source = document.getElementById(box.dataset.chart);
      if (!source || !window.echarts) return;
      var chart = window.echarts.init(box, null, { renderer: "svg" });
      chart.setOption(JSON.parse(source.textContent));
      box.dataset.drawn = "1";
      drawn.push(chart);
    });
  }

  function showCustomDates(form) {
    var period = form.querySelector("[name=period]");
    if (!period) return;
    var toggle = function () {
      form.querySelectorAll(".custom-dates").forEach(function (el) {
        el.hidden = period.value !== "custom";
      });
    };
    period.addEventListener("change", toggle);
    toggle();
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
    document.querySelectorAll("form.filters").forEach(showCustomDates);
  });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
  window.addEventListener("resize", function () { drawn.forEach(function (c) { c.resize(); }); });
})();
