// A twin's page: a device (its network view, like a phone's), a source (cell, Wi-Fi AP,
// BLE beacon: its observers) or an environment sensor (its readings), each with charts
// from the history API and live updates from the change stream.
import { followChanges, getThing, history, listRelationships, request } from "../api.js";
import { toSeries } from "../chart.js";
import {
  bars, fmtAgo, fmtNumber, fmtTime, groupOf, h, KIND_LABEL, kindOf, mainMetric, METRIC_UNIT,
  mount, RAT_LABEL, throttle, twinHref,
} from "../dom.js";
import { chartPanel } from "./chartpanel.js";
import { insightsPanel } from "./insights.js";

const SIGNAL_METRICS = [["rsrp", "RSRP"], ["rsrq", "RSRQ"], ["sinr", "SINR"], ["rssi", "RSSI"]];
const ENV_METRICS = [["co2", "CO2"], ["pm25", "PM2.5"], ["temperature", "Temperature"],
  ["humidity", "Humidity"], ["occupantCount", "Occupants"], ["occupancy", "Occupancy (0/1)"],
  ["pm10", "PM10"], ["illuminance", "Illuminance"]];
const GROUPS = [["cell", "Cellular"], ["wifi", "Wi-Fi"], ["ble", "BLE"]];
/** A source not heard in the device's last half minute of scans is shown as stale. */
const STALE_S = 30;

function attributesList(attrs, skip = []) {
  const rows = [];
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (skip.includes(key)) continue;
    let text = value;
    if (key === "lastSeen") text = `${fmtTime(value)} (${fmtAgo(value)})`;
    else if (key === "location" && value) {
      text = [`${fmtNumber(value.lat, 6)}, ${fmtNumber(value.lon, 6)}`,
        value.floor !== undefined ? `floor ${value.floor}` : null,
        value.zone ? `zone ${value.zone}` : null,
        value.accuracy !== undefined ? `±${fmtNumber(value.accuracy)} m` : null].filter(Boolean).join(" · ");
    }
    else if (value && typeof value === "object") text = JSON.stringify(value);
    rows.push(h("dt", {}, key), h("dd", { dataset: { key } }, String(text)));
  }
  return h("dl", { class: "kv" }, rows);
}

function metricText(props, metric) {
  const v = props[metric];
  if (v === undefined || v === null) return "–";
  return `${fmtNumber(v)} ${METRIC_UNIT[metric] ?? ""}`;
}

function sourceLabel(rel, names) {
  const id = rel.properties.sourceId ?? rel.target.slice(rel.target.indexOf("/twins/") + 7);
  const attrs = names.get(id) ?? {};
  if (attrs.ssid) return `${attrs.ssid} (${attrs.bssid ?? id.slice(5)})`;
  if (attrs.pci !== undefined && attrs.pci !== null) return `${id.slice(5)} · PCI ${attrs.pci}`;
  if (attrs.major !== undefined && attrs.major !== null) return `${attrs.address ?? id} · ${attrs.major}/${attrs.minor}`;
  return id;
}

async function sourceNames(ids) {
  const names = new Map();
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    const things = await request("/api/2/things", {
      params: { ids: chunk.join(","), fields: "thingId,attributes/ssid,attributes/bssid,attributes/pci,attributes/address,attributes/major,attributes/minor" },
    });
    for (const t of things) names.set(t.thingId, t.attributes ?? {});
  }
  return names;
}

// -- device ------------------------------------------------------------------------------

async function renderDevice(main, thing) {
  const id = thing.thingId;
  let rels = [];
  let names = new Map();
  const chosen = new Set();
  const groupsBox = h("div", { id: "network-view" });
  const identity = h("div");
  const attrs = { ...(thing.attributes ?? {}) };

  function paintIdentity() {
    mount(identity, h("p", {}, h("span", { class: `dot ${attrs.online ? "on" : "off"}` }),
      attrs.online ? "online" : "offline", " · last update ", h("span", { id: "last-seen" }, fmtAgo(attrs.lastSeen))),
    attributesList(attrs, ["online"]));
  }

  function paintGroups() {
    const deviceSeen = attrs.lastSeen ?? 0;
    const sections = GROUPS.map(([group, label]) => {
      const members = rels.filter((r) => groupOf(r.properties.sourceType) === group);
      members.sort((a, b) => (b.properties[mainMetric(b.properties)] ?? -999) - (a.properties[mainMetric(a.properties)] ?? -999));
      const rows = members.map((rel) => {
        const p = rel.properties;
        const metric = mainMetric(p);
        const stale = deviceSeen - (p.lastSeen ?? 0) > STALE_S;
        const box = h("input", { type: "checkbox", "aria-label": `Chart ${p.sourceId}`, checked: chosen.has(rel.name),
          onchange: () => { if (box.checked) chosen.add(rel.name); else chosen.delete(rel.name); panel.reload(); } });
        const extra = group === "cell"
          ? [p.rsrq !== undefined ? `RSRQ ${fmtNumber(p.rsrq)} dB` : null, p.sinr !== undefined ? `SINR ${fmtNumber(p.sinr)} dB` : null]
          : [p.distance !== undefined ? `~${fmtNumber(p.distance)} m` : null];
        return h("div", { class: `source-row${stale ? " stale" : ""}`, dataset: { source: p.sourceId } },
          h("div", { class: "name" },
            box, " ",
            h("a", { href: twinHref(p.sourceId) }, sourceLabel(rel, names)),
            h("div", { class: "small muted" },
              h("span", { class: "badge" }, RAT_LABEL[p.sourceType] ?? p.sourceType), " ",
              p.connectionStatus ? h("span", { class: "badge" }, p.connectionStatus) : null, " ",
              [...extra.filter(Boolean), `seen ${fmtAgo(p.lastSeen)}`].join(" · "))),
          h("span", { class: "value" }, metricText(p, metric)),
          h("span", {}, bars(p.level, p.quality), " ", h("span", { class: `small q-${p.quality}` }, p.quality ?? "")));
      });
      return h("div", { class: "group", dataset: { group } },
        h("h3", {}, label, " ", h("span", { class: "count" }, `(${members.length})`)),
        rows.length ? rows : h("p", { class: "muted small" }, "none heard"));
    });
    mount(groupsBox, sections);
  }

  async function loadSources() {
    rels = await listRelationships({ source: id, type: "observes" });
    const missing = rels.map((r) => r.properties.sourceId).filter((s) => s && !names.has(s));
    if (missing.length) {
      const found = await sourceNames(missing);
      names = new Map([...names, ...found]);
    }
    paintGroups();
  }

  function chartSources(metric) {
    const having = rels.filter((r) => r.properties[metric] !== undefined);
    const picked = having.filter((r) => chosen.has(r.name));
    if (picked.length) return picked;
    return having.sort((a, b) => (b.properties[metric] ?? -999) - (a.properties[metric] ?? -999)).slice(0, 4);
  }

  const panel = chartPanel({
    title: "Signal history", metrics: SIGNAL_METRICS, id: "signal-chart", initialRange: 900,
    load: async (metric, start, end, bucket) => {
      const picked = chartSources(metric);
      return Promise.all(picked.map(async (rel) => {
        const rid = rel.name.slice(rel.name.indexOf("/relationships/") + 15);
        const answer = await history(id, `/relationships/${rid}/properties/${metric}`, start, end, bucket);
        return { label: sourceLabel(rel, names), ...toSeries(answer) };
      }));
    },
  });

  paintIdentity();
  await loadSources();
  const kinds = new Set(rels.map((r) => groupOf(r.properties.sourceType)));
  if (!kinds.has("cell")) panel.setMetrics([["rssi", "RSSI"]]);
  const insights = insightsPanel({ kind: "device", id });

  mount(main,
    h("p", { class: "small" }, h("a", { href: "#/devices" }, "Devices"), " / ", id),
    h("h1", {}, id, " ", h("span", { class: "badge" }, KIND_LABEL.device), " ", h("span", { id: "live", class: "muted small" })),
    h("div", { class: "grid2" },
      h("div", {},
        h("section", { class: "panel", "aria-label": "Device" }, h("h2", {}, "Device"), identity),
        h("section", { class: "panel", "aria-label": "Network view" }, h("h2", {}, "What it hears"), groupsBox)),
      h("div", {}, panel.element, insights.element)));
  await panel.reload();
  insights.load();

  const refresh = throttle(async () => {
    await loadSources();
    const metric = panel.metric();
    for (const rel of chartSources(metric)) {
      const p = rel.properties;
      if (p[metric] !== undefined && p.lastSeen) panel.append(sourceLabel(rel, names), p.lastSeen * 1000, p[metric]);
    }
  }, 1000);
  const stop = followChanges({ ids: id }, (event) => {
    Object.assign(attrs, event.attributes ?? {});
    paintIdentity();
    refresh();
  }, (up) => {
    const live = document.getElementById("live");
    if (live) { live.className = up ? "live" : "muted small"; live.textContent = up ? "live" : "reconnecting…"; }
  });
  const ticker = setInterval(() => {
    const el = document.getElementById("last-seen");
    if (el) el.textContent = fmtAgo(attrs.lastSeen);
  }, 1000);
  return () => { stop(); clearInterval(ticker); panel.chart.destroy(); };
}

// -- sources (cells, APs, beacons) ------------------------------------------------------

async function renderSource(main, thing) {
  const id = thing.thingId;
  const kind = kindOf(id);
  let rels = [];
  const tbody = h("tbody");
  const metrics = kind === "cell" ? SIGNAL_METRICS.slice() : [["rssi", "RSSI"]];

  async function loadObservers() {
    rels = await listRelationships({ target: id, type: "observes" });
    rels.sort((a, b) => (b.properties.lastSeen ?? 0) - (a.properties.lastSeen ?? 0));
    mount(tbody, rels.length ? rels.map((rel) => {
      const p = rel.properties;
      const metric = mainMetric(p);
      return h("tr", { dataset: { device: p.deviceId } },
        h("td", {}, h("a", { href: twinHref(p.deviceId) }, p.deviceId)),
        h("td", { class: "num" }, metricText(p, metric)),
        h("td", {}, bars(p.level, p.quality), " ", h("span", { class: `small q-${p.quality}` }, p.quality ?? "")),
        h("td", {}, p.connectionStatus ?? "–"),
        h("td", { class: "num" }, p.sampleCount ?? "–"),
        h("td", { title: fmtTime(p.lastSeen) }, fmtAgo(p.lastSeen)));
    }) : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No device hears it now.")));
  }

  const panel = chartPanel({
    title: "Signal at its observers", metrics, id: "signal-chart",
    load: async (metric, start, end, bucket) => {
      const picked = rels.filter((r) => r.properties[metric] !== undefined).slice(0, 5);
      return Promise.all(picked.map(async (rel) => {
        const rid = rel.name.slice(rel.name.indexOf("/relationships/") + 15);
        const answer = await history(rel.properties.deviceId, `/relationships/${rid}/properties/${metric}`, start, end, bucket);
        return { label: rel.properties.deviceId, ...toSeries(answer) };
      }));
    },
  });
  await loadObservers();
  const insights = insightsPanel({ kind: "source", id });
  mount(main,
    h("p", { class: "small" }, h("a", { href: "#/sources" }, "Sources"), " / ", id),
    h("h1", {}, id, " ", h("span", { class: "badge" }, KIND_LABEL[kind])),
    h("div", { class: "grid2" },
      h("div", {},
        h("section", { class: "panel", "aria-label": "Source" }, h("h2", {}, "Source"), attributesList(thing.attributes)),
        h("section", { class: "panel", "aria-label": "Observers" },
          h("h2", {}, "Observers ", h("span", { class: "muted" }, `(${rels.length})`)),
          h("table", { id: "observers" }, h("thead", {}, h("tr", {}, h("th", {}, "Device"), h("th", { class: "num" }, "Strength"),
            h("th", {}, "Level"), h("th", {}, "Role"), h("th", { class: "num" }, "Samples"), h("th", {}, "Last seen"))), tbody))),
      h("div", {}, panel.element, insights.element)));
  await panel.reload();
  insights.load();
  const timer = setInterval(loadObservers, 5000);
  return () => { clearInterval(timer); panel.chart.destroy(); };
}

// -- environment sensors ----------------------------------------------------------------

async function renderSensor(main, thing) {
  const id = thing.thingId;
  const attrs = { ...(thing.attributes ?? {}) };
  const tiles = h("div", { class: "grid3", id: "readings" });
  const present = ENV_METRICS.filter(([m]) => attrs[m] !== undefined && attrs[m] !== null);
  const metrics = present.length ? present : ENV_METRICS.slice(0, 1);

  function paintTiles() {
    mount(tiles, ENV_METRICS.filter(([m]) => attrs[m] !== undefined && attrs[m] !== null).map(([m, label]) =>
      h("div", { class: "panel" }, h("div", { class: "muted small" }, label),
        h("div", { class: "reco", dataset: { metric: m } }, `${fmtNumber(attrs[m])} ${METRIC_UNIT[m] ?? ""}`))));
  }

  const panel = chartPanel({
    title: "Readings", metrics, id: "env-chart",
    load: async (metric, start, end, bucket) => {
      // Occupancy is a word: its raw points are charted as 0/1.
      const answer = await history(id, `/attributes/${metric}`, start, end, metric === "occupancy" ? undefined : bucket);
      return [{ label: metric, ...toSeries(answer) }];
    },
  });
  paintTiles();
  const insights = insightsPanel({ kind: "sensor", id });
  mount(main,
    h("p", { class: "small" }, h("a", { href: "#/sources" }, "Sources"), " / ", id),
    h("h1", {}, id, " ", h("span", { class: "badge" }, KIND_LABEL.sensor), " ", h("span", { id: "live", class: "muted small" })),
    tiles,
    h("div", { class: "grid2" },
      h("section", { class: "panel", "aria-label": "Sensor" }, h("h2", {}, "Sensor"), h("div", { id: "sensor-attrs" }, attributesList(attrs))),
      h("div", {}, panel.element, insights.element)));
  await panel.reload();
  insights.load();
  const stop = followChanges({ ids: id }, (event) => {
    const changed = event.attributes ?? {};
    Object.assign(attrs, changed);
    paintTiles();
    mount(document.getElementById("sensor-attrs") ?? h("div"), attributesList(attrs));
    const metric = panel.metric();
    if (changed[metric] !== undefined && attrs.lastSeen) {
      const v = changed[metric];
      panel.append(metric, attrs.lastSeen * 1000, v === "occupied" ? 1 : v === "vacant" ? 0 : v);
    }
  }, (up) => {
    const live = document.getElementById("live");
    if (live) { live.className = up ? "live" : "muted small"; live.textContent = up ? "live" : "reconnecting…"; }
  });
  return () => { stop(); panel.chart.destroy(); };
}

export async function render(main, thingId) {
  const thing = await getThing(thingId);
  const kind = kindOf(thingId);
  if (kind === "device") return renderDevice(main, thing);
  if (kind === "sensor") return renderSensor(main, thing);
  return renderSource(main, thing);
}
