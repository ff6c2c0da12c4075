// Floor: twins with a location drawn on the floor plane (SVG, metres east/north of the
// centre), zones as the hulls of their members, sources without a location placed at the
// signal-weighted centre of their observers (marked as estimates).
import { listRelationships, searchAll, thingIdOf } from "../api.js";
import { fmtNumber, h, KIND_LABEL, kindOf, mount, twinHref } from "../dom.js";

const COLOR = { device: "#444", cell: "#7a3fc4", wifi: "#0b63c5", ble: "#0a8a86", sensor: "#b35c00", other: "#999" };
const M_PER_DEG = 111320;

function hull(points) {
  // Andrew's monotone chain.
  const pts = points.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower = [];
  for (const p of pts) { while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop(); lower.push(p); }
  const upper = [];
  for (const p of pts.reverse()) { while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop(); upper.push(p); }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

export async function render(main) {
  const [twins, rels] = await Promise.all([
    searchAll({ namespaces: "device,sensor,wifi,ble,cell", fields: "thingId,attributes/location,attributes/online,attributes/ssid" }, 5000),
    listRelationships({ type: "observes" }, 30000),
  ]);
  const located = twins.filter((t) => Number.isFinite(t.attributes?.location?.lat) && Number.isFinite(t.attributes?.location?.lon));
  if (!located.length) {
    mount(main, h("h1", {}, "Floor"), h("p", { class: "muted" }, "No twin has a location yet (devices report one with the loc signal; sensors and access points get one through their location attribute)."));
    return undefined;
  }
  const floors = [...new Set(located.map((t) => t.attributes.location.floor ?? 0))].sort((a, b) => a - b);
  const state = { floor: floors[0], estimates: true };
  const svg = h("svg:svg", { class: "floor", id: "floor-plan", role: "img", "aria-label": "Floor plan" });
  const info = h("p", { class: "small muted", "aria-live": "polite" });
  const floorSelect = h("select", { "aria-label": "Floor", onchange: () => { state.floor = Number(floorSelect.value); draw(); } },
    floors.map((f) => h("option", { value: f }, `floor ${f}`)));
  const estimateBox = h("input", { type: "checkbox", checked: true, onchange: () => { state.estimates = estimateBox.checked; draw(); } });
  const list = h("ul", { class: "small", id: "floor-list" });

  function draw() {
    const here = located.filter((t) => (t.attributes.location.floor ?? 0) === state.floor);
    const lat0 = here.reduce((s, t) => s + t.attributes.location.lat, 0) / here.length;
    const lon0 = here.reduce((s, t) => s + t.attributes.location.lon, 0) / here.length;
    const cos = Math.cos((lat0 * Math.PI) / 180);
    const xy = (loc) => [(loc.lon - lon0) * M_PER_DEG * cos, (loc.lat - lat0) * M_PER_DEG];
    const points = here.map((t) => ({ id: t.thingId, kind: kindOf(t.thingId), p: xy(t.attributes.location), zone: t.attributes.location.zone, online: t.attributes.online, estimated: false }));
    // Sources without a location: signal-weighted centre of their located observers.
    const at = new Map(points.map((n) => [n.id, n.p]));
    if (state.estimates) {
      const sums = new Map();
      for (const r of rels) {
        const device = thingIdOf(r.source);
        const source = thingIdOf(r.target);
        const p = at.get(device);
        if (!p || at.has(source)) continue;
        const dbm = r.properties?.rssi ?? r.properties?.rsrp;
        if (dbm === undefined) continue;
        const w = 10 ** (dbm / 20);
        const s = sums.get(source) ?? [0, 0, 0];
        s[0] += w * p[0]; s[1] += w * p[1]; s[2] += w;
        sums.set(source, s);
      }
      for (const [id, [sx, sy, w]] of sums) {
        if (kindOf(id) === "cell") continue; // masts stand far outside the floor
        points.push({ id, kind: kindOf(id), p: [sx / w, sy / w], estimated: true });
      }
    }
    const xs = points.map((n) => n.p[0]);
    const ys = points.map((n) => n.p[1]);
    const [minX, maxX, minY, maxY] = [Math.min(...xs) - 5, Math.max(...xs) + 5, Math.min(...ys) - 5, Math.max(...ys) + 5];
    const box = svg.getBoundingClientRect();
    const W = Math.max(600, box.width || 1000);
    const H = Math.max(400, box.height || 620);
    const scale = Math.min((W - 60) / Math.max(1, maxX - minX), (H - 60) / Math.max(1, maxY - minY));
    const X = (x) => 30 + (x - minX) * scale;
    const Y = (y) => H - 30 - (y - minY) * scale;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const nodes = [];
    // A 10 m grid and a scale bar.
    for (let gx = Math.ceil(minX / 10) * 10; gx <= maxX; gx += 10) nodes.push(h("svg:line", { x1: X(gx), x2: X(gx), y1: 20, y2: H - 20, stroke: "currentColor", opacity: 0.07 }));
    for (let gy = Math.ceil(minY / 10) * 10; gy <= maxY; gy += 10) nodes.push(h("svg:line", { x1: 20, x2: W - 20, y1: Y(gy), y2: Y(gy), stroke: "currentColor", opacity: 0.07 }));
    nodes.push(h("svg:line", { x1: 30, x2: 30 + 10 * scale, y1: H - 12, y2: H - 12, stroke: "currentColor", "stroke-width": 2 }),
      h("svg:text", { x: 34 + 10 * scale, y: H - 8, "font-size": 11, fill: "currentColor" }, "10 m"));
    const zones = new Map();
    for (const n of points) if (n.zone) zones.set(n.zone, [...(zones.get(n.zone) ?? []), n.p]);
    for (const [zone, pts] of zones) {
      const shape = hull(pts.map(([x, y]) => [X(x), Y(y)]));
      const cx = shape.reduce((s, p) => s + p[0], 0) / shape.length;
      const cy = shape.reduce((s, p) => s + p[1], 0) / shape.length;
      nodes.push(shape.length >= 3
        ? h("svg:polygon", { points: shape.map((p) => p.join(",")).join(" "), fill: "#0b63c5", "fill-opacity": 0.07, stroke: "#0b63c5", "stroke-opacity": 0.5, "stroke-linejoin": "round", "stroke-width": 18, "data-zone": zone })
        : h("svg:circle", { cx, cy, r: 22, fill: "#0b63c5", "fill-opacity": 0.07, stroke: "#0b63c5", "stroke-opacity": 0.5, "data-zone": zone }),
      h("svg:text", { x: cx, y: cy - 14, "text-anchor": "middle", "font-size": 12, fill: "#0b63c5" }, zone));
    }
    for (const n of points) {
      const [x, y] = [X(n.p[0]), Y(n.p[1])];
      const color = COLOR[n.kind] ?? COLOR.other;
      const title = h("svg:title", {}, `${n.id}${n.estimated ? " (position estimated from its observers)" : ""}`);
      const shape = n.kind === "device"
        ? h("svg:circle", { cx: x, cy: y, r: 4.5, fill: n.online === false ? "#c4312b" : color }, title)
        : h("svg:rect", { x: x - 6, y: y - 6, width: 12, height: 12, rx: 2, fill: n.estimated ? "none" : color, stroke: color, "stroke-width": 2, "stroke-dasharray": n.estimated ? "3 2" : null }, title);
      nodes.push(h("svg:a", { href: twinHref(n.id), "data-id": n.id }, shape));
    }
    mount(svg, nodes);
    const estimated = points.filter((n) => n.estimated).length;
    info.textContent = `${points.length - estimated} located twins on floor ${state.floor}, ${estimated} sources placed by estimate, ${zones.size} zones`;
    mount(list, points.filter((n) => !n.estimated || n.kind !== "device").slice(0, 400).map((n) =>
      h("li", {}, h("a", { href: twinHref(n.id) }, n.id), ` ${KIND_LABEL[n.kind]}${n.zone ? `, zone ${n.zone}` : ""}, `,
        `${fmtNumber(n.p[0], 0)} m E, ${fmtNumber(n.p[1], 0)} m N${n.estimated ? " (estimated)" : ""}`)));
  }

  mount(main,
    h("h1", {}, "Floor"),
    h("div", { class: "toolbar" }, floorSelect, h("label", {}, estimateBox, "place sources from their observers"),
      h("span", { class: "small muted" }, "● device (red: offline) · ■ located source · ▢ estimated source")),
    svg, info,
    h("details", {}, h("summary", {}, "Twins on this floor (list)"), list));
  draw();
  return undefined;
}
