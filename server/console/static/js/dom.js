// Small DOM helpers and the console's shared vocabulary (twin kinds, levels, formats).

/** Create an element: h("a", {href: "#"}, "text", child...). `on*` attributes bind events. */
export function h(tag, attrs, ...children) {
  const el = tag.includes(":")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(tag.indexOf(":") + 1))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name === "style" && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) el.style.setProperty(k, v);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the content of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function toast(text) {
  const box = document.getElementById("toast");
  const item = h("div", {}, text);
  box.append(item);
  setTimeout(() => item.remove(), 5000);
}

/** `#/twin/{id}`: the console's page of a twin. */
export function twinHref(thingId) {
  return `#/twin/${encodeURIComponent(thingId)}`;
}

/** What a twin is, from its namespace (the MQTT adapter's keys, docs/mqtt.md). */
export function kindOf(thingId) {
  const ns = thingId.slice(0, thingId.indexOf(":"));
  if (ns === "device") return "device";
  if (ns === "sensor") return "sensor";
  if (ns === "wifi") return "wifi";
  if (ns === "ble") return "ble";
  if (ns === "cell") return "cell";
  return "other";
}

/** `lte`, `nr`, `wcdma`, `gsm` of a cell twin id (`cell:{rat}-...`), else null. */
export function ratOf(thingId) {
  const m = /^cell:([a-z]+)-/.exec(thingId);
  return m ? m[1] : null;
}

export const KIND_LABEL = {
  device: "Device", sensor: "Environment sensor", wifi: "Wi-Fi access point",
  ble: "BLE beacon", cell: "Cell", other: "Twin",
};

/** Observation `sourceType` to the group a phone's network view shows it in. */
export function groupOf(sourceType) {
  if (sourceType === "wifiAccessPoint") return "wifi";
  if (sourceType === "bleBeacon") return "ble";
  return "cell";
}

export const RAT_LABEL = { lteCell: "LTE", nrCell: "5G NR", wcdmaCell: "WCDMA", gsmCell: "GSM",
                           wifiAccessPoint: "Wi-Fi", bleBeacon: "BLE" };

/** The metric that decides a source's strength (what its level was graded from). */
export function mainMetric(props) {
  if (props.sourceType === "wifiAccessPoint" || props.sourceType === "bleBeacon") return "rssi";
  if (props.rsrp !== undefined && props.rsrp !== null) return "rsrp";
  return "rssi";
}

export const METRIC_UNIT = { rssi: "dBm", rsrp: "dBm", rsrq: "dB", sinr: "dB", co2: "ppm",
  pm25: "µg/m³", pm10: "µg/m³", temperature: "°C", humidity: "%", occupantCount: "people",
  occupancy: "", illuminance: "lx", distance: "m", batteryLevel: "%" };

/** Signal bars 0..4 (Android's levels), coloured by quality. */
export function bars(level, quality) {
  const lit = Number.isFinite(level) ? level : 0;
  return h("span", { class: `bars q-${quality ?? "none"}`, role: "img",
                     "aria-label": `${lit} of 4 bars${quality ? `, ${quality}` : ""}` },
    [1, 2, 3, 4].map((i) => h("i", { class: i <= lit ? "lit" : "", style: { height: `${3 + i * 3}px` } })));
}

export function fmtNumber(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (typeof value !== "number") return String(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** Epoch seconds (the models' timestamps) to a local date-time string. */
export function fmtTime(seconds) {
  if (!seconds && seconds !== 0) return "–";
  return new Date(seconds * 1000).toLocaleString();
}

/** "12 s ago", "3 min ago", ... from epoch seconds. */
export function fmtAgo(seconds, now = Date.now() / 1000) {
  if (!seconds && seconds !== 0) return "never";
  const d = Math.max(0, now - seconds);
  if (d < 60) return `${Math.round(d)} s ago`;
  if (d < 3600) return `${Math.round(d / 60)} min ago`;
  if (d < 86400) return `${Math.round(d / 3600)} h ago`;
  return `${Math.round(d / 86400)} d ago`;
}

/** `fn` rate-limited: runs at once, then at most every `ms` ms with the latest arguments. */
export function throttle(fn, ms) {
  let timer = null;
  let pending = null;
  const tick = () => {
    if (!pending) { timer = null; return; }
    const args = pending;
    pending = null;
    fn(...args);
    timer = setTimeout(tick, ms);
  };
  return (...args) => {
    if (timer) { pending = args; return; }
    fn(...args);
    timer = setTimeout(tick, ms);
  };
}
