// The analytics of one twin, shown beside its charts: anomalies with their evidence, the
// short-horizon forecast and its measured error, and (for a device) which interface to
// send a message over. Everything comes from /v1/analytics.
import { analytics } from "../api.js";
import { fmtNumber, h, METRIC_UNIT, mount } from "../dom.js";

function when(iso) {
  return new Date(iso).toLocaleString();
}

function anomalyItem(a) {
  const unit = METRIC_UNIT[a.metric] ?? "";
  const what = {
    drop: `dropped ${fmtNumber(Math.abs(a.delta))} ${unit}`,
    rise: `rose ${fmtNumber(Math.abs(a.delta))} ${unit}`,
    spike: `spiked to ${fmtNumber(a.value)} ${unit}`,
    stuck: `stuck at ${fmtNumber(a.value)} ${unit}`,
    gap: "no samples",
  }[a.kind] ?? a.kind;
  return h("li", { dataset: { kind: a.kind } },
    h("strong", {}, a.series), ` ${what} at ${when(a.start)}`,
    a.end && a.end !== a.start ? ` until ${when(a.end)}` : "",
    h("div", { class: "evidence" }, a.evidence?.text ?? ""));
}

function forecastItem(f) {
  const unit = METRIC_UNIT[f.metric] ?? "";
  const last = f.forecast[f.forecast.length - 1];
  const err = f.error ?? {};
  return h("li", {},
    h("strong", {}, f.series), ` in ${f.horizonSeconds} s: ${last ? fmtNumber(last.value) : "–"} ${unit}`,
    last ? ` (±${fmtNumber((last.high - last.low) / 2)})` : "",
    h("div", { class: "evidence" },
      `${f.model}; held-back MAE ${fmtNumber(err.mae, 2)} ${unit} vs ${fmtNumber(err.baselineMae, 2)} for "no change" over ${err.holdout ?? 0} forecasts`));
}

/** A panel with the twin's analytics; `kind` is device, source or sensor. */
export function insightsPanel({ kind, id }) {
  const body = h("div", { id: "insights" }, h("p", { class: "muted small" }, "Analysing…"));
  const window = h("select", { "aria-label": "Analysis window", onchange: () => load() },
    [["900", "last 15 min"], ["3600", "last hour"], ["21600", "last 6 h"], ["86400", "last 24 h"]]
      .map(([v, l]) => h("option", { value: v, selected: v === "3600" }, l)));
  const reco = kind === "device" ? recommendForm(id) : null;
  const element = h("section", { class: "panel", "aria-label": "Analytics" },
    h("h2", {}, "Analytics"), h("div", { class: "toolbar" }, window), body, reco?.element);

  async function load() {
    const params = { twin: id, window: window.value };
    try {
      const [anomalies, forecast] = await Promise.all([
        analytics("anomalies", params), analytics("forecast", { ...params, horizon: 60 })]);
      mount(body,
        h("h3", {}, "Anomalies"),
        anomalies.anomalies.length
          ? h("ul", { class: "anomalies" }, anomalies.anomalies.slice(0, 12).map(anomalyItem))
          : h("p", { class: "muted small" }, `None found in ${anomalies.series} series.`),
        h("h3", {}, "Forecast"),
        forecast.forecasts.length
          ? h("ul", {}, forecast.forecasts.slice(0, 6).map(forecastItem))
          : h("p", { class: "muted small" }, "Not enough history to forecast."));
    } catch (err) {
      mount(body, h("p", { class: "muted small" }, `Analytics unavailable: ${err.message}`));
    }
    reco?.run();
  }
  return { element, load };
}

function recommendForm(device) {
  const size = h("input", { type: "number", min: "1", value: "2048", "aria-label": "Message size in bytes", style: { width: "9em" } });
  const urgency = h("select", { "aria-label": "Urgency" },
    ["low", "normal", "high", "critical"].map((u) => h("option", { value: u, selected: u === "normal" }, u)));
  const out = h("div", { id: "recommendation", "aria-live": "polite" });
  async function run() {
    try {
      const r = await analytics("recommend", undefined, { device, size: Number(size.value), urgency: urgency.value });
      mount(out,
        h("p", { class: "reco" }, r.recommended ? `Send over ${r.recommended}` : "Hold the message"),
        h("ul", { class: "reasons" }, r.reasons.map((x) => h("li", {}, x))),
        h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Interface"), h("th", {}, "Link"), h("th", { class: "num" }, "Time"),
          h("th", { class: "num" }, "Energy"), h("th", {}, "Why"))),
        h("tbody", {}, r.ranking.map((c) => h("tr", { dataset: { iface: c.interface } },
          h("td", {}, c.interface, c.feasible ? "" : " ✕"),
          h("td", { class: "small" }, c.link ? `${c.link.sourceId} ${fmtNumber(c.link.current)} → ${fmtNumber(c.link.predicted)}` : "–"),
          h("td", { class: "num" }, c.seconds !== null ? `${fmtNumber(c.seconds, 2)} s` : "–"),
          h("td", { class: "num" }, c.energyJoules !== null ? `${fmtNumber(c.energyJoules, 2)} J` : "–"),
          h("td", { class: "small" }, c.reasons.join("; ")))))));
    } catch (err) {
      mount(out, h("p", { class: "muted small" }, `No recommendation: ${err.message}`));
    }
  }
  const element = h("div", {},
    h("h3", {}, "Where to send a message"),
    h("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); run(); } },
      h("label", {}, "Size (bytes) ", size), h("label", {}, "Urgency ", urgency),
      h("button", { type: "submit" }, "Recommend")),
    out);
  return { element, run };
}
