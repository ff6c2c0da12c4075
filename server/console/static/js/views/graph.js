// Graph: twins as nodes, `observes` relationships as edges, laid out by a small force
// simulation on a canvas; filters by twin type, zone and radio technology.
import { listRelationships, searchAll, thingIdOf } from "../api.js";
import { h, KIND_LABEL, kindOf, mount, ratOf, twinHref } from "../dom.js";

const KINDS = ["device", "cell", "wifi", "ble", "sensor"];
const COLOR = { device: "#444", cell: "#7a3fc4", wifi: "#0b63c5", ble: "#0a8a86", sensor: "#b35c00", other: "#999" };
const MAX_NODES = 600;

function hash(text) {
  let x = 2166136261;
  for (let i = 0; i < text.length; i++) { x ^= text.charCodeAt(i); x = Math.imul(x, 16777619); }
  return (x >>> 0) / 4294967296;
}

/** Force layout (spring edges, pairwise repulsion, gravity), deterministic from ids. */
function layout(nodes, edges, width, height) {
  const byId = new Map(nodes.map((n, i) => [n.id, i]));
  const sources = nodes.filter((n) => n.kind !== "device").length || 1;
  nodes.forEach((n) => {
    const ring = n.kind === "device" ? 0.42 : 0.18;
    const angle = hash(n.id) * 2 * Math.PI;
    n.x = width / 2 + Math.cos(angle) * width * ring;
    n.y = height / 2 + Math.sin(angle) * height * ring;
    n.vx = 0; n.vy = 0;
  });
  const links = edges.map((e) => [byId.get(e.source), byId.get(e.target)]).filter(([a, b]) => a !== undefined && b !== undefined);
  const k = Math.sqrt((width * height) / Math.max(1, nodes.length)) * 0.55;
  const rounds = nodes.length > 300 ? 160 : 260;
  for (let round = 0; round < rounds; round++) {
    const cool = 1 - round / rounds;
    for (let i = 0; i < nodes.length; i++) {
      const a = nodes[i];
      for (let j = i + 1; j < nodes.length; j++) {
        const b = nodes[j];
        let dx = a.x - b.x;
        let dy = a.y - b.y;
        let d2 = dx * dx + dy * dy;
        if (d2 < 0.01) { dx = 0.1; dy = 0.1; d2 = 0.02; }
        if (d2 > 9 * k * k) continue;
        const f = (k * k) / d2;
        a.vx += dx * f; a.vy += dy * f; b.vx -= dx * f; b.vy -= dy * f;
      }
    }
    for (const [ia, ib] of links) {
      const a = nodes[ia];
      const b = nodes[ib];
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const d = Math.sqrt(dx * dx + dy * dy) || 1;
      const f = (d - k) / d * 0.08;
      a.vx += dx * f; a.vy += dy * f; b.vx -= dx * f; b.vy -= dy * f;
    }
    for (const n of nodes) {
      n.vx += (width / 2 - n.x) * 0.01 * (n.kind === "device" ? 1 : sources / nodes.length + 0.5);
      n.vy += (height / 2 - n.y) * 0.01;
      const speed = Math.hypot(n.vx, n.vy);
      const limit = 18 * cool + 0.5;
      if (speed > limit) { n.vx *= limit / speed; n.vy *= limit / speed; }
      n.x = Math.min(width - 12, Math.max(12, n.x + n.vx));
      n.y = Math.min(height - 12, Math.max(12, n.y + n.vy));
      n.vx *= 0.5; n.vy *= 0.5;
    }
  }
}

export async function render(main) {
  const [twins, rels] = await Promise.all([
    searchAll({ namespaces: KINDS.join(","), fields: "thingId,attributes/location,attributes/online,attributes/ssid" }, 5000),
    listRelationships({ type: "observes" }, 30000),
  ]);
  const edgesAll = rels.map((r) => ({ source: thingIdOf(r.source), target: thingIdOf(r.target),
                                      level: r.properties?.level ?? 0 }));
  const zones = [...new Set(twins.map((t) => t.attributes?.location?.zone).filter(Boolean))].sort();
  const rats = [...new Set(twins.map((t) => ratOf(t.thingId)).filter(Boolean))].sort();
  const state = { kinds: new Set(KINDS), zone: "", rat: "", selected: null };

  const canvas = h("canvas", { class: "graph", id: "graph-canvas", role: "img", "aria-label": "Graph of twins and relationships" });
  const info = h("p", { class: "small muted", id: "graph-info", "aria-live": "polite" });
  const list = h("select", { size: 12, "aria-label": "Nodes (Enter opens)", style: { width: "100%" },
    onchange: () => { state.selected = list.value; draw(); },
    onkeydown: (e) => { if (e.key === "Enter" && list.value) location.hash = twinHref(list.value); },
    ondblclick: () => { if (list.value) location.hash = twinHref(list.value); } });
  const checks = KINDS.map((kind) => h("label", {}, h("input", { type: "checkbox", checked: true,
    onchange: (e) => { if (e.target.checked) state.kinds.add(kind); else state.kinds.delete(kind); rebuild(); } }),
    h("span", { class: "swatch", style: { background: COLOR[kind] } }), KIND_LABEL[kind]));
  const zoneSelect = h("select", { "aria-label": "Zone", onchange: () => { state.zone = zoneSelect.value; rebuild(); } },
    h("option", { value: "" }, "all zones"), zones.map((z) => h("option", { value: z }, z)));
  const ratSelect = h("select", { "aria-label": "Radio technology", onchange: () => { state.rat = ratSelect.value; rebuild(); } },
    h("option", { value: "" }, "every RAT"), rats.map((r) => h("option", { value: r }, r.toUpperCase())));

  let nodes = [];
  let edges = [];

  function rebuild() {
    const zoneOf = new Map(twins.map((t) => [t.thingId, t.attributes?.location?.zone]));
    let keep = twins.filter((t) => state.kinds.has(kindOf(t.thingId)));
    if (state.rat) keep = keep.filter((t) => kindOf(t.thingId) !== "cell" || ratOf(t.thingId) === state.rat);
    let ids = new Set(keep.map((t) => t.thingId));
    if (state.zone) {
      // The zone's twins and the sources its devices hear.
      const inZone = new Set(keep.filter((t) => zoneOf.get(t.thingId) === state.zone).map((t) => t.thingId));
      for (const e of edgesAll) if (inZone.has(e.source) && ids.has(e.target)) inZone.add(e.target);
      ids = inZone;
    }
    edges = edgesAll.filter((e) => ids.has(e.source) && ids.has(e.target));
    const degree = new Map();
    for (const e of edges) { degree.set(e.source, (degree.get(e.source) ?? 0) + 1); degree.set(e.target, (degree.get(e.target) ?? 0) + 1); }
    let chosen = keep.filter((t) => ids.has(t.thingId));
    let note = "";
    if (chosen.length > MAX_NODES) {
      chosen = chosen.sort((a, b) => (degree.get(b.thingId) ?? 0) - (degree.get(a.thingId) ?? 0)).slice(0, MAX_NODES);
      note = ` (the ${MAX_NODES} best connected shown; filter to see others)`;
      const shown = new Set(chosen.map((t) => t.thingId));
      edges = edges.filter((e) => shown.has(e.source) && shown.has(e.target));
    }
    nodes = chosen.map((t) => ({ id: t.thingId, kind: kindOf(t.thingId), degree: degree.get(t.thingId) ?? 0,
                                 online: t.attributes?.online, label: t.attributes?.ssid }));
    const box = canvas.getBoundingClientRect();
    canvas.width = Math.max(600, Math.round(box.width || 1200));
    canvas.height = Math.max(400, Math.round(box.height || 620));
    layout(nodes, edges, canvas.width, canvas.height);
    info.textContent = `${nodes.length} twins, ${edges.length} relationships${note}`;
    mount(list, nodes.slice().sort((a, b) => a.id.localeCompare(b.id)).map((n) => h("option", { value: n.id }, n.id)));
    canvas.dataset.nodes = String(nodes.length);
    draw();
  }

  function draw(hover = null) {
    const ctx = canvas.getContext("2d");
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const pos = new Map(nodes.map((n) => [n.id, n]));
    const focus = hover ?? state.selected;
    ctx.lineWidth = 1;
    for (const e of edges) {
      const a = pos.get(e.source);
      const b = pos.get(e.target);
      const lit = focus && (e.source === focus || e.target === focus);
      ctx.strokeStyle = lit ? "rgba(196,49,43,0.9)" : dark ? `rgba(200,200,200,${0.05 + e.level * 0.04})` : `rgba(60,70,80,${0.05 + e.level * 0.04})`;
      ctx.beginPath(); ctx.moveTo(a.x, a.y); ctx.lineTo(b.x, b.y); ctx.stroke();
    }
    for (const n of nodes) {
      const r = n.kind === "device" ? 4 : 5 + Math.min(8, Math.sqrt(n.degree));
      ctx.fillStyle = COLOR[n.kind] ?? COLOR.other;
      ctx.beginPath(); ctx.arc(n.x, n.y, r, 0, 2 * Math.PI); ctx.fill();
      if (n.kind === "device" && n.online === false) { ctx.strokeStyle = "#c4312b"; ctx.stroke(); }
      if (n.id === focus) { ctx.strokeStyle = "#c4312b"; ctx.lineWidth = 2.5; ctx.beginPath(); ctx.arc(n.x, n.y, r + 3, 0, 2 * Math.PI); ctx.stroke(); ctx.lineWidth = 1; }
    }
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = dark ? "#ddd" : "#222";
    for (const n of nodes) {
      if (n.kind === "device" && n.id !== focus) continue;
      if (nodes.length > 150 && n.degree < 3 && n.id !== focus) continue;
      ctx.fillText(n.label ?? n.id, n.x + 8, n.y - 6);
    }
  }

  function nodeAt(event) {
    const box = canvas.getBoundingClientRect();
    const x = (event.clientX - box.left) * (canvas.width / box.width);
    const y = (event.clientY - box.top) * (canvas.height / box.height);
    let best = null;
    let bestD = 14 * 14;
    for (const n of nodes) {
      const d = (n.x - x) ** 2 + (n.y - y) ** 2;
      if (d < bestD) { bestD = d; best = n; }
    }
    return best;
  }
  canvas.addEventListener("mousemove", (e) => {
    const n = nodeAt(e);
    canvas.style.cursor = n ? "pointer" : "default";
    canvas.title = n ? `${n.id} (${KIND_LABEL[n.kind]}, ${n.degree} relationships)` : "";
    draw(n?.id ?? null);
  });
  canvas.addEventListener("click", (e) => { const n = nodeAt(e); if (n) location.hash = twinHref(n.id); });

  mount(main,
    h("h1", {}, "Graph"),
    h("div", { class: "toolbar" }, checks, zoneSelect, ratSelect),
    h("div", { class: "grid2", style: { "grid-template-columns": "1fr 260px" } },
      h("div", { class: "graph-wrap" }, canvas, info),
      h("div", { class: "panel" }, h("h2", {}, "Nodes"), list,
        h("p", { class: "small muted" }, "Arrow keys pick a node, Enter opens its page. Click a node on the graph to open it."))));
  rebuild();
  const onResize = () => rebuild();
  window.addEventListener("resize", onResize);
  return () => window.removeEventListener("resize", onResize);
}
