// The renewal report's chart: Chart.js (vendored), drawing the numbers the table beside it shows.
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("membership-chart");
    var source = document.getElementById("membership-chart-data");
    if (!canvas || !source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var colours = ["#1f5f99", "#2e8540", "#b3413b"];
    var datasets = data.series.map(function (series, index) {
      return {
        type: "bar",
        label: series.label,
        data: series.data,
        backgroundColor: colours[index % colours.length],
        yAxisID: "count",
        order: 2
      };
    });
    datasets.push({
      type: "line",
      label: data.rate.label,
      data: data.rate.data,
      borderColor: "#6b4c9a",
      backgroundColor: "#6b4c9a",
      spanGaps: true,
      clip: 8,
      yAxisID: "rate",
      order: 1
    });
    new window.Chart(canvas, {
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        // Wide on a desk, taller on a phone; no style attribute (the CSP allows none).
        aspectRatio: window.innerWidth < 600 ? 1.1 : 2.4,
        animation: false,
        scales: {
          count: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 } },
          rate: {
            type: "linear",
            position: "right",
            min: 0,
            max: 100,
            grid: { drawOnChartArea: false },
            ticks: { callback: function (value) { return value + " %"; } }
          }
        }
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
