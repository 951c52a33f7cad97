// Returnyard dashboards: each <canvas data-chart="..."> is drawn with Chart.js from the figures
// the page carries (#dashboard-data, the same the tables beside the charts show). Series differ
// by line style and point shape as well as by colour, so a chart reads in black and white.
(function () {
  "use strict";

  const source = document.getElementById("dashboard-data");
  if (!source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const say = window.returnyardSay || ((text) => text);

  const INK = ["#1f5fbf", "#b3261e", "#157f3b", "#8a5a00", "#5b2a86", "#1b1f24"];
  const DASH = [[], [8, 4], [2, 3], [12, 3, 2, 3], [4, 4], [1, 2]];
  const POINT = ["circle", "triangle", "rect", "rectRot", "star", "crossRot"];

  function series(index, label, values, extra) {
    const ink = INK[index % INK.length];
    return Object.assign({
      label: label,
      data: values,
      borderColor: ink,
      backgroundColor: ink + "33",
      borderWidth: 2,
      borderDash: DASH[index % DASH.length],
      pointStyle: POINT[index % POINT.length],
      pointRadius: 4,
    }, extra || {});
  }

  function percent(rate) { return rate === null ? null : Math.round(rate * 1000) / 10; }
  function major(minor, currency) { return minor / Math.pow(10, data.minor_digits[currency]); }

  const CHARTS = {
    "return-rate-by-partner": () => ({
      type: "bar",
      labels: data.return_rate.by_partner.map((row) => row.key),
      datasets: [series(0, say("Return rate (%%)"), data.return_rate.by_partner.map((row) => percent(row.rate)))],
    }),
    "return-rate-by-month": () => ({
      type: "line",
      labels: data.return_rate.by_month.map((row) => row.key),
      datasets: [series(0, say("Return rate (%%)"), data.return_rate.by_month.map((row) => percent(row.rate)))],
    }),
    reasons: () => ({
      type: "bar",
      horizontal: true,
      labels: data.reasons.map((row) => row.key.replace(/_/g, " ")),
      datasets: [series(0, say("Units"), data.reasons.map((row) => row.count))],
    }),
    grades: () => ({
      type: "bar",
      labels: data.grades.map((row) => row.key.replace(/_/g, " ")),
      datasets: [series(2, say("Units"), data.grades.map((row) => row.count))],
    }),
    "stage-hours": () => {
      const stages = Object.values(data.stage_hours);
      return {
        type: "bar",
        labels: stages.map((row) => row.label),
        datasets: [
          series(0, "p50 hours", stages.map((row) => row.p50)),
          series(1, "p90 hours", stages.map((row) => row.p90), { borderDash: [6, 3] }),
        ],
      };
    },
    throughput: () => {
      const hours = Array.from({ length: 24 }, (_, hour) => hour);
      const stations = ["receive", "grade", "route"];
      return {
        type: "line",
        labels: hours.map((hour) => String(hour).padStart(2, "0") + ":00"),
        datasets: stations.map((station, index) => series(index, station, hours.map((hour) => {
          const row = data.throughput.per_hour.find((r) => r.station === station && r.hour === hour);
          return row ? row.count : 0;
        }))),
      };
    },
    "refund-timeliness": () => ({
      type: "bar",
      stacked: true,
      labels: data.refund_timeliness.map((row) => row.month),
      datasets: [
        series(2, say("On time"), data.refund_timeliness.map((row) => row.on_time)),
        series(1, say("Late"), data.refund_timeliness.map((row) => row.late), { borderDash: [4, 2] }),
      ],
    }),
    resale: () => {
      const currencies = Object.keys(data.resale).sort();
      return {
        type: "bar",
        labels: currencies,
        datasets: [
          series(0, say("Listed value"), currencies.map((c) => major(data.resale[c].listed_minor, c))),
          series(2, say("Sold for"), currencies.map((c) => major(data.resale[c].sold_minor, c)), { borderDash: [6, 3] }),
        ],
      };
    },
    "returns-over-time": () => ({
      type: "line",
      labels: data.returns_by_month.map((row) => row.key),
      datasets: [
        series(0, say("Sold"), data.returns_by_month.map((row) => row.sold)),
        series(1, say("Returned"), data.returns_by_month.map((row) => row.returned)),
      ],
    }),
    "reasons-over-time": () => {
      const reasons = data.reasons.map((row) => row.key);
      return {
        type: "bar",
        stacked: true,
        labels: data.reasons_by_month.map((row) => row.month),
        datasets: reasons.map((reason, index) => series(index, reason.replace(/_/g, " "),
          data.reasons_by_month.map((row) => row[reason]))),
      };
    },
    revenue: () => {
      const currencies = [...new Set(data.revenue_by_month.map((row) => row.currency))].sort();
      const months = [...new Set(data.revenue_by_month.map((row) => row.month))].sort();
      return {
        type: "line",
        labels: months,
        datasets: currencies.map((currency, index) => series(index, say("Revenue %(currency)s", { currency: currency }), months.map((month) => {
          const row = data.revenue_by_month.find((r) => r.month === month && r.currency === currency);
          return row ? major(row.revenue_minor, currency) : 0;
        }))),
      };
    },
  };

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    const make = CHARTS[canvas.dataset.chart];
    if (!make) return;
    const spec = make();
    const chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        plugins: { legend: { labels: { usePointStyle: true } } },
        scales: { x: { stacked: !!spec.stacked }, y: { stacked: !!spec.stacked, beginAtZero: true } },
      },
    });
    canvas.dataset.drawn = String(chart.data.datasets.length);
  });
  document.body.dataset.charts = "drawn";
})();
