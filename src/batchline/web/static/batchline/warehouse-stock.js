/* Batchline warehouse stock: the "stock by status" chart (Apache ECharts, vendored). The page works
   without it: the table under the chart holds the same figures exactly. */
(function () {
  "use strict";

  function draw() {
    var holder = document.getElementById("ws-chart");
    var source = document.getElementById("ws-chart-data");
    if (!holder || !source || typeof window.echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    if (!data.series.length) {
      holder.textContent = data.empty;
      holder.classList.add("ws-chart-empty");
      return;
    }
    var chart = window.echarts.init(holder, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 40, containLabel: true },
      xAxis: { type: "value", name: data.quantity, nameLocation: "middle", nameGap: 28 },
      yAxis: {
        type: "category", data: data.categories, inverse: true,
        axisLabel: { formatter: function (value, index) { return value + "\n" + (data.names[index] || ""); } }
      },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "stock", data: s.data, itemStyle: { color: s.color },
                 emphasis: { focus: "series" } };
      })
    });
    holder.style.height = Math.max(160, 60 + 48 * data.categories.length) + "px";
    chart.resize();
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
