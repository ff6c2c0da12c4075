// Analytics: per cell, AP, beacon, device, sensor and zone over a window; correlations of
// environment and network KPIs with their evidence; the optional narrator.
import { analytics } from "../api.js";
import { fmtNumber, h, mount, twinHref } from "../dom.js";

const KINDS = [["cell", "Cells"], ["wifi", "Wi-Fi APs"], ["ble", "BLE"], ["device", "Devices"],
               ["sensor", "Sensors"], ["zone", "Zones"]];
const WINDOWS = [["900", "15 min"], ["3600", "1 h"], ["21600", "6 h"], ["86400", "24 h"], ["604800", "7 d"]];

function kpiCell(kpi) {
  if (kpi.metric === "observers") return `${kpi.count} observers`;
  return `${kpi.metric} ${fmtNumber(kpi.p50)} (${fmtNumber(kpi.p05)} … ${fmtNumber(kpi.p95)}), n=${kpi.count}`;
}

function bins(evidence) {
  const rows = evidence?.bins ?? [];
  if (!rows.length) return null;
  const lo = Math.min(...rows.map((b) => b.meanB));
  const hi = Math.max(...rows.map((b) => b.meanB));
  return h("div", { class: "small", style: { display: "grid", "grid-template-columns": "90px 1fr 70px", gap: "2px 8px", "max-width": "460px" } },
    rows.map((b) => [h("span", { class: "muted" }, fmtNumber(b.a)),
      h("span", {}, h("span", { style: { display: "inline-block", height: "8px", background: "var(--accent)",
        width: `${8 + 92 * ((b.meanB - lo) / Math.max(1e-9, hi - lo))}%` } })),
      h("span", {}, fmtNumber(b.meanB, 2))]));
}

export async function render(main) {
  let kind = sessionStorage.getItem("ndtwin.analytics.kind") ?? "cell";
  const windowSelect = h("select", { "aria-label": "Window", onchange: () => loadOverview() },
    WINDOWS.map(([v, l]) => h("option", { value: v, selected: v === "3600" }, l)));
  const kindButtons = KINDS.map(([k, label]) => h("button", { type: "button", "aria-pressed": String(k === kind),
    onclick: () => { kind = k; sessionStorage.setItem("ndtwin.analytics.kind", k); loadOverview(); } }, label));
  const table = h("div", { id: "overview" });
  const scopeInput = h("input", { type: "text", placeholder: "sensor:room-1 or zone name", "aria-label": "Twin id or zone",
                                  style: { width: "18em" }, value: sessionStorage.getItem("ndtwin.analytics.scope") ?? "" });
  const corr = h("div", { id: "correlations", "aria-live": "polite" });
  const narrator = h("div", { id: "narrator" });
  let lastResult = null;

  async function loadOverview() {
    kindButtons.forEach((b, i) => b.setAttribute("aria-pressed", String(KINDS[i][0] === kind)));
    mount(table, h("p", { class: "muted" }, "Computing…"));
    try {
      const result = await analytics("overview", { kind, window: windowSelect.value });
      lastResult = result;
      mount(table, h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, kind === "zone" ? "Zone" : "Twin"),
        h("th", {}, "KPIs over the window: median (5th … 95th percentile), samples"))),
        h("tbody", {}, result.rows.length ? result.rows.map((row) => h("tr", {},
          h("td", {}, kind === "zone" ? `${row.id} (${row.members})` : h("a", { href: twinHref(row.id) }, row.id)),
          h("td", { class: "small" }, row.kpis.length ? row.kpis.map(kpiCell).join(" · ") : "no samples")))
          : h("tr", {}, h("td", { colspan: 2, class: "muted" }, "Nothing of this kind yet.")))));
    } catch (err) {
      mount(table, h("p", { class: "error" }, err.message));
    }
  }

  async function loadCorrelations(event) {
    event?.preventDefault();
    const text = scopeInput.value.trim();
    if (!text) return;
    sessionStorage.setItem("ndtwin.analytics.scope", text);
    mount(corr, h("p", { class: "muted" }, "Computing…"));
    const scope = text.includes(":") ? { twin: text } : { zone: text };
    try {
      // About 120 grid steps per window, at least 10 s.
      const step = Math.max(10, Math.round(Number(windowSelect.value) / 120));
      const result = await analytics("correlations", { ...scope, window: windowSelect.value, step });
      lastResult = result;
      mount(corr,
        h("p", { class: "small muted" }, `${result.environment.length} environment series × ${result.network.length} network series, ${result.stepSeconds} s steps`),
        result.correlations.length ? h("ul", {}, result.correlations.slice(0, 12).map((c) => h("li", { dataset: { found: String(c.found) } },
          h("strong", {}, `${c.a} ~ ${c.b}: `), c.found ? "found" : "not significant",
          h("div", { class: "evidence" }, c.evidence.text), c.found ? bins(c.evidence) : null)))
          : h("p", { class: "muted" }, "Not enough overlapping samples to correlate."));
      corr.dataset.count = String(Math.min(12, result.correlations.length));
    } catch (err) {
      mount(corr, h("p", { class: "error" }, err.message));
    }
  }

  const state = await analytics("narrator").catch(() => ({ enabled: false }));
  if (state.enabled) {
    mount(narrator, h("button", { type: "button", onclick: async () => {
      if (!lastResult) return;
      const text = await analytics("narrate", undefined, { result: lastResult }).then((r) => r.text, (e) => e.message);
      mount(narrator, h("p", {}, text));
    } }, `Explain the last result (${state.model})`));
  }

  mount(main,
    h("h1", {}, "Analytics"),
    h("div", { class: "toolbar" }, h("label", {}, "Window ", windowSelect)),
    h("section", { class: "panel", "aria-label": "Overview" }, h("h2", {}, "Per source, device and zone"),
      h("div", { class: "tabs", role: "group", "aria-label": "Kind" }, kindButtons), table),
    h("section", { class: "panel", "aria-label": "Correlations" }, h("h2", {}, "Environment against network"),
      h("form", { class: "toolbar", onsubmit: loadCorrelations }, scopeInput, h("button", { type: "submit" }, "Correlate")),
      corr),
    narrator);
  await loadOverview();
  if (scopeInput.value) loadCorrelations();
  return undefined;
}
