// Draws a report's chart with ECharts (vendored: static/vendor/echarts) from the JSON the
// page carries (appliance/services/report_views.py: chart). Words come translated in the
// JSON; ECharts' own words (its toolbox) follow the page's language.
(function () {
  "use strict";
  var box = document.getElementById("report-chart");
  var source = document.getElementById("report-chart-data");
  if (!box || !source || !window.echarts) { return; }
  var spec = JSON.parse(source.textContent || "null");
  if (!spec) { return; }
  var chart = echarts.init(box, null, {renderer: "canvas", locale: box.dataset.lang === "zh_CN" ? "ZH" : "EN"});
  var option;
  if (spec.type === "heatmap") {
    option = {
      tooltip: {position: "top"},
      grid: {left: 60, right: 20, top: 10, bottom: 70},
      xAxis: {type: "category", data: spec.x, splitArea: {show: true}},
      yAxis: {type: "category", data: spec.y, inverse: true, splitArea: {show: true}},
      visualMap: {min: 0, max: spec.max, calculable: true, orient: "horizontal", left: "center", bottom: 0},
      series: [{name: spec.name, type: "heatmap", data: spec.data,
                label: {show: true, formatter: function (p) { return p.value[2] ? String(p.value[2]) : ""; }}}]
    };
  } else if (spec.type === "timeline") {
    var colours = ["#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4"];
    var hhmm = function (s) { var m = Math.floor(s / 60); return String(Math.floor(m / 60)).padStart(2, "0") + ":" + String(m % 60).padStart(2, "0"); };
    option = {
      tooltip: {formatter: function (p) { return p.value[4] + "<br>" + hhmm(p.value[1]) + " – " + hhmm(p.value[2]); }},
      legend: {top: 0, data: spec.states},
      grid: {left: 110, right: 20, top: 40, bottom: 40},
      xAxis: {type: "value", min: 0, max: spec.day_seconds, interval: 7200, axisLabel: {formatter: hhmm}},
      yAxis: {type: "category", data: spec.y, inverse: true},
      series: spec.states.map(function (name, i) {
        return {name: name, type: "custom", encode: {x: [1, 2], y: 0},
                itemStyle: {color: colours[i % colours.length]},
                data: spec.data.filter(function (d) { return d[3] === i; }),
                renderItem: function (params, api) {
                  var start = api.coord([api.value(1), api.value(0)]), end = api.coord([api.value(2), api.value(0)]);
                  var height = api.size([0, 1])[1] * 0.6;
                  var rect = echarts.graphic.clipRectByRect(
                    {x: start[0], y: start[1] - height / 2, width: Math.max(end[0] - start[0], 1), height: height},
                    {x: params.coordSys.x, y: params.coordSys.y, width: params.coordSys.width, height: params.coordSys.height});
                  return rect && {type: "rect", shape: rect, style: api.style()};
                }};
      })
    };
  } else if (spec.type === "pie") {
    option = {
      tooltip: {trigger: "item"}, legend: {top: 0},
      series: [{type: "pie", radius: ["35%", "65%"], data: spec.data, label: {formatter: "{b}: {c} ({d}%)"}}]
    };
  } else {
    var axes = [{type: "value", minInterval: 1}];
    if (spec.percent_axis) { axes.push({type: "value", name: spec.percent_axis, min: 0, max: 100, axisLabel: {formatter: "{value}%"}}); }
    option = {
      tooltip: {trigger: "axis"}, legend: {top: 0},
      grid: {left: 50, right: spec.percent_axis ? 60 : 20, top: 40, bottom: 60},
      xAxis: {type: "category", data: spec.x},
      yAxis: axes,
      dataZoom: spec.x.length > 40 ? [{type: "slider", bottom: 5}] : [],
      series: spec.series.map(function (s) {
        return {name: s.name, type: s.line ? "line" : "bar", stack: s.stack, yAxisIndex: s.axis || 0,
                data: s.data, connectNulls: false, smooth: false};
      })
    };
  }
  option.animation = false;  // a report is read and printed, not watched
  chart.setOption(option);
  window.addEventListener("resize", function () { chart.resize(); });
  window.addEventListener("beforeprint", function () { chart.resize({width: 680}); });
  window.addEventListener("afterprint", function () { chart.resize(); });
  var print = document.getElementById("report-print");
  if (print) { print.addEventListener("click", function () { window.print(); }); }
  box.dataset.ready = "1";
}());
