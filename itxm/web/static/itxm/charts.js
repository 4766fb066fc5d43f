// Draws every ECharts option the page carries (see itxm/web/charts.py) and keeps the charts sized.
(function () {
  "use strict";
  var drawn = [];
  // ECharts writes numbers the English way (1,200 and 40.7) whatever the page's language: every number it
  // draws goes through the page's own number format instead (1.200 and 40,7 in Turkish).
  var numbers = new Intl.NumberFormat(document.documentElement.lang || "en", { maximumFractionDigits: 2 });

  function number(value) {
    return typeof value === "number" && isFinite(value) ? numbers.format(value) : value;
  }

  function shown(params) {
    // The number a label or tooltip shows: a heatmap cell's value is the last of [column, row, value].
    var value = params.value;
    return number(Array.isArray(value) ? value[value.length - 1] : value);
  }

  function escape(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function template(text, html) {
    // ECharts' "{b}: {c} ({d} %)" templates, with the numbers ({c} value, {d} share) in the page's format.
    // A tooltip shows what a function returns as HTML: names (user text) are escaped there, as ECharts does.
    if (typeof text !== "string" || !/\{[cd]\}/.test(text)) return text;
    var plain = html ? escape : String;
    return function (params) {
      var values = {
        a: plain(params.seriesName), b: plain(params.name),
        c: [].concat(params.value).map(number).join(" · "), d: number(params.percent)
      };
      return text.replace(/\{([abcd])\}/g, function (_, key) { return values[key]; });
    };
  }

  function localise(option) {
    ["xAxis", "yAxis"].forEach(function (key) {
      [].concat(option[key] || []).forEach(function (axis) {
        if (axis.type !== "value") return;
        axis.axisLabel = axis.axisLabel || {};
        if (!axis.axisLabel.formatter) axis.axisLabel.formatter = number;
      });
    });
    [].concat(option.visualMap || []).forEach(function (map) {
      if (!map.formatter) map.formatter = number;
    });
    if (option.tooltip) {
      option.tooltip.formatter = template(option.tooltip.formatter, true);
      if (!option.tooltip.formatter && !option.tooltip.valueFormatter) option.tooltip.valueFormatter = number;
    }
    [].concat(option.series || []).forEach(function (series) {
      if (series.tooltip) series.tooltip.formatter = template(series.tooltip.formatter, true);
      if (series.detail && series.detail.formatter === "{value}") series.detail.formatter = number;  // gauges
      if (!series.label) return;
      if (series.label.formatter) series.label.formatter = template(series.label.formatter);
      else if (series.type !== "pie") series.label.formatter = shown;
    });
    return option;
  }

  function draw(root) {
    root.querySelectorAll("[data-chart]").forEach(function (box) {
      if (box.dataset.drawn) return;
      var source = document.getElementById(box.dataset.chart);
      if (!source || !window.echarts) return;
      var chart = window.echarts.init(box, null, { renderer: "svg" });
      chart.setOption(localise(JSON.parse(source.textContent)));
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
