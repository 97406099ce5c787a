// Charts with the vendored Chart.js (a classic script: window.Chart). Each chart is a
// canvas described for screen readers, followed by the same numbers as a table.

import { h, table } from "./dom.js";

const PALETTE = { PAID: "#1a7f37", FAILED: "#cf222e", REQUESTED: "#9a6700",
                  done: "#0b57d0", left: "#c8d1dc", bars: "#0b57d0" };

export function color(name) { return PALETTE[name] || "#57606a"; }

// spec: {title, labels, datasets: [{label, data, color, raw?, format?}], stacked, yTitle,
// horizontal, counts (whole-number ticks)}; the table shows `raw` (else `data`) through `format`.
export function chart(spec, cleanup) {
  const canvas = h("canvas", { role: "img", "aria-label": `${spec.title} (chart; the table below has the numbers)` });
  const box = h("figure", { class: "card" },
    h("figcaption", {}, h("h2", {}, spec.title)),
    h("div", { class: "chart" }, canvas),
    h("details", {}, h("summary", {}, "Numbers"),
      table(spec.title, [
        { label: spec.axisLabel || "", cell: (row) => row.label },
        ...spec.datasets.map((set, i) => ({ label: set.label, num: true,
          cell: (row) => (set.format ? set.format(row.values[i]) : row.values[i]) })),
      ], spec.labels.map((label, index) => ({
        label, values: spec.datasets.map((set) => (set.raw || set.data)[index]) })))));
  const draw = () => {
    if (!window.Chart) return;
    const made = new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: spec.datasets.map((set) => ({
        label: set.label, data: set.data, backgroundColor: set.color || color("bars") })) },
      options: {
        indexAxis: spec.horizontal ? "y" : "x", animation: false, responsive: true,
        maintainAspectRatio: false,
        scales: {
          [spec.horizontal ? "y" : "x"]: { stacked: !!spec.stacked },
          [spec.horizontal ? "x" : "y"]: { stacked: !!spec.stacked, beginAtZero: true,
            ticks: spec.counts ? { precision: 0 } : {},
            title: { display: !!spec.yTitle, text: spec.yTitle } },
        },
      },
    });
    cleanup.push(() => made.destroy());
  };
  if (window.Chart) queueMicrotask(draw); else window.addEventListener("load", draw, { once: true });
  return box;
}
