/* Workforce charts (ECharts, vendored): the forecast with its band and events, required vs scheduled per skill.
   Data comes from <script type="application/json"> blocks (the CSP allows no inline code); labels arrive
   translated from the template. */
(function () {
  "use strict";

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function locale() {
    return (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0 ? "ZH" : "EN";
  }

  function make(el) {
    var chart = window.echarts.init(el, null, { locale: locale(), renderer: "canvas" });
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  function forecastChart(el, data) {
    var L = data.labels;
    var history = data.history.map(function (p) { return [p[0], p[1]]; });
    var mean = data.forecast.map(function (p) { return [p[0], p[1]]; });
    var lo = data.forecast.map(function (p) { return [p[0], p[2]]; });
    var width = data.forecast.map(function (p) { return [p[0], Math.max(0, p[3] - p[2])]; });
    var areas = data.events.map(function (e) {
      return [{ name: e[0] + " ×" + e[3], xAxis: e[1] }, { xAxis: e[2] }];
    });
    make(el).setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [L.history, L.forecast, L.band] },
      grid: { left: 48, right: 16, top: 48, bottom: 56 },
      xAxis: { type: "time" },
      yAxis: { type: "value", name: L.count, min: 0 },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }],
      series: [
        { name: L.history, type: "line", data: history, showSymbol: false, lineStyle: { width: 1, color: "#6b7280" }, itemStyle: { color: "#6b7280" } },
        { name: "lo", type: "line", data: lo, stack: "band", showSymbol: false, lineStyle: { opacity: 0 }, tooltip: { show: false }, silent: true },
        { name: L.band, type: "line", data: width, stack: "band", showSymbol: false, lineStyle: { opacity: 0 }, areaStyle: { color: "rgba(31,95,191,0.15)" }, itemStyle: { color: "rgba(31,95,191,0.35)" } },
        {
          name: L.forecast, type: "line", data: mean, showSymbol: false, lineStyle: { width: 1.5, color: "#1f5fbf" }, itemStyle: { color: "#1f5fbf" },
          markArea: { silent: true, itemStyle: { color: "rgba(232,163,61,0.18)" }, label: { color: "#8a5a00", fontSize: 11 }, data: areas }
        }
      ]
    });
  }

  function coverageChart(el, data) {
    var spec = data.charts.filter(function (c) { return c.id === el.id; })[0];
    if (!spec) return;
    var N = data.names;
    make(el).setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [N.need, N.scheduled] },
      grid: { left: 40, right: 16, top: 40, bottom: 56 },
      xAxis: { type: "category", data: data.labels, axisLabel: { interval: Math.max(0, Math.ceil(data.labels.length / 8) - 1) } },
      yAxis: { type: "value", name: N.agents, minInterval: 1, min: 0 },
      dataZoom: [{ type: "inside" }, { type: "slider", height: 16, bottom: 6 }],
      series: [
        { name: N.need, type: "line", step: "end", data: spec.need, showSymbol: false, lineStyle: { color: "#c62828" }, itemStyle: { color: "#c62828" } },
        { name: N.scheduled, type: "line", step: "end", data: spec.scheduled, showSymbol: false, areaStyle: { color: "rgba(31,95,191,0.15)" }, lineStyle: { color: "#1f5fbf" }, itemStyle: { color: "#1f5fbf" } }
      ]
    });
  }

  function init() {
    if (!window.echarts) return;
    var charts = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < charts.length; i++) {
      var el = charts[i];
      var data = readJSON(el.getAttribute("data-source"));
      if (!data) continue;
      if (el.getAttribute("data-chart") === "forecast") forecastChart(el, data);
      else if (el.getAttribute("data-chart") === "coverage") coverageChart(el, data);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
