// A chart with its toolbar: metric choice, range presets, drag-to-zoom, live following.
import { bucketFor, Chart, COLORS, RANGES } from "../chart.js";
import { h, METRIC_UNIT, mount } from "../dom.js";

/**
 * options.metrics: [[value, label]]; options.load(metric, startMs, endMs, bucketSeconds)
 * resolves to [{label, points, band}] (colours are assigned here).
 * Returns {chart, reload(), append(label, tMs, value), metric(), element}.
 */
export function chartPanel({ title, metrics, load, initialRange = 3600, id = "chart" }) {
  // `fit`: until a range is chosen, a young history fills the chart instead of its edge.
  const state = { metric: metrics[0]?.[0], span: initialRange, start: null, end: null, follow: true,
                  fit: true };
  const holder = h("div", { id });
  const status = h("span", { class: "muted small" });
  const select = h("select", { "aria-label": "Metric", onchange: () => { state.metric = select.value; reload(); } },
    metrics.map(([value, label]) => h("option", { value }, label)));
  const presets = RANGES.map(([label, seconds]) => h("button", {
    type: "button", "aria-pressed": String(seconds === state.span),
    onclick: () => { state.span = seconds; state.follow = true; state.start = null; state.fit = false; reload(); },
  }, label));
  const element = h("section", { class: "panel", "aria-label": title },
    h("h2", {}, title),
    h("div", { class: "toolbar" }, metrics.length > 1 ? select : null, h("span", {}, presets), status),
    holder,
    h("p", { class: "small muted" }, "Drag across the chart (or press + on it) to zoom; arrow keys move the cursor."));
  const chart = new Chart(holder, {
    label: title,
    unit: METRIC_UNIT[state.metric] ?? "",
    onZoom: (t0, t1) => { state.follow = false; state.fit = false; state.start = t0; state.end = t1; reload(); },
  });

  let generation = 0;
  async function reload() {
    const mine = ++generation;
    for (const [i, button] of presets.entries()) {
      button.setAttribute("aria-pressed", String(state.follow && RANGES[i][1] === state.span));
    }
    const end = state.follow ? Date.now() : state.end;
    const start = state.follow ? end - state.span * 1000 : state.start;
    const bucket = bucketFor(start, end);
    status.textContent = "loading…";
    const started = performance.now();
    try {
      const series = await load(state.metric, start, end, bucket);
      if (mine !== generation) return;
      chart.unit = METRIC_UNIT[state.metric] ?? "";
      chart.range = [start, end];
      const first = Math.min(...series.flatMap((x) => x.points.slice(0, 1).map((p) => p[0])));
      if (state.fit && Number.isFinite(first) && end - first < (end - start) / 4) {
        chart.range = [first - Math.max(10e3, (end - first) * 0.05), end];
      }
      chart.setSeries(series.map((s, i) => ({ color: COLORS[i % COLORS.length], ...s })));
      const points = series.reduce((n, s) => n + s.points.length, 0);
      status.textContent = `${points} points, ${bucket} s buckets, ${Math.round(performance.now() - started)} ms`
        + (state.follow ? "" : " (zoomed)");
      holder.dataset.loaded = String(mine);
    } catch (err) {
      if (mine === generation) status.textContent = `failed: ${err.message}`;
    }
  }

  return {
    element, chart, reload,
    metric: () => state.metric,
    following: () => state.follow,
    append(label, t, value) { if (state.follow) chart.append(label, t, value); },
    setMetrics(list) {
      mount(select, list.map(([value, label]) => h("option", { value }, label)));
      if (!list.some(([v]) => v === state.metric)) state.metric = list[0]?.[0];
      select.value = state.metric;
    },
  };
}
