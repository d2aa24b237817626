// The dashboard's charts, drawn with the embedded ECharts from the data the
// page carries (#dash-data): one value per bucket for each series.
(function () {
  "use strict";
  var el = document.getElementById("dash-data");
  if (!el || !window.echarts) return;
  var data = JSON.parse(el.textContent);
  var d = data.dashboard, L = data.labels;
  // Bucket starts come in the configured zone (…T09:00:00+08:00): a day's
  // buckets are shown as MM-DD, shorter ones as MM-DD HH:mm.
  var axis = d.buckets.map(function (t) {
    return d.bucket === "1d" ? t.slice(5, 10) : t.slice(5, 10) + " " + t.slice(11, 16);
  });
  // Tooltips as rich text: the page's policy allows no inline styles.
  var base = {
    animation: false,
    tooltip: { trigger: "axis", renderMode: "richText" },
    legend: { type: "scroll", bottom: 0 },
    grid: { left: 48, right: 16, top: 16, bottom: 56 },
  };
  function chart(id, option) {
    var node = document.getElementById(id);
    if (!node) return;
    var c = echarts.init(node, null, { renderer: "canvas" });
    c.setOption(Object.assign({}, base, option));
    window.addEventListener("resize", function () { c.resize(); });
  }
  function timeAxis() {
    return { type: "category", data: axis, axisLabel: { hideOverlap: true } };
  }
  chart("chart-orders", {
    xAxis: timeAxis(),
    yAxis: { type: "value", minInterval: 1 },
    series: d.orders.map(function (s) {
      return { name: s.source, type: "bar", stack: "orders", data: s.orders };
    }),
  });
  var flows = [];
  d.flows.forEach(function (f) {
    flows.push({ name: f.flow + " · " + L["dash.written"], type: "bar", data: f.written });
    flows.push({ name: f.flow + " · " + L["dash.exceptions"], type: "line", data: f.exceptions });
  });
  chart("chart-flows", { xAxis: timeAxis(), yAxis: { type: "value", minInterval: 1 }, series: flows });
  var states = ["sent", "merged", "queued", "collecting", "sending", "failed"];
  chart("chart-deliveries", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: d.deliveries.map(function (c) { return c.system; }) },
    grid: { left: 96, right: 16, top: 16, bottom: 56 },
    series: states.map(function (st) {
      return {
        name: L["dstate." + st], type: "bar", stack: "state",
        data: d.deliveries.map(function (c) { return c.states[st] || 0; }),
      };
    }),
  });
  var names = [], waiting = [], failed = [];
  d.flows.forEach(function (f) { names.push(f.flow); waiting.push(f.waiting); failed.push(f.open_exceptions); });
  d.deliveries.forEach(function (c) { names.push(c.system); waiting.push(c.waiting); failed.push(c.failed); });
  chart("chart-backlog", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
    xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 4 ? 30 : 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: L["dash.waiting"], type: "bar", stack: "b", data: waiting },
      { name: L["dash.exceptions"] + " / " + L["dash.failed_deliveries"], type: "bar", stack: "b", data: failed },
    ],
  });
})();
