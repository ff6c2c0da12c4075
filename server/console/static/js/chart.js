// A time-series chart drawn as SVG: lines with min/max bands, drag to zoom, markers,
// a keyboard cursor (arrow keys) and live appends.
import { h, mount } from "./dom.js";

export const COLORS = ["#0b63c5", "#c4312b", "#1a7f37", "#7a3fc4", "#b35c00", "#0a8a86",
                       "#a3357a", "#5d6670"];

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
                    21600, 43200, 86400, 172800, 604800].map((s) => s * 1000);

function timeLabel(t, span) {
  const d = new Date(t);
  if (span > 2 * 86400e3) return d.toLocaleDateString([], { month: "short", day: "numeric" })
    + " " + d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (span > 600e3) return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/**
 * A chart in `container`. series: [{label, color, points: [[ms, value]], band: [[ms, lo, hi]]}].
 * `onZoom(startMs, endMs)` is called after a drag selection.
 */
export class Chart {
  constructor(container, { unit = "", label = "Chart", onZoom = null, height = 260 } = {}) {
    this.unit = unit;
    this.onZoom = onZoom;
    this.series = [];
    this.markers = [];
    this.range = [Date.now() - 3600e3, Date.now()];
    this.cursor = null;
    this.width = 800;
    this.height = height;
    this.svg = h("svg:svg", { class: "chart", role: "img", tabindex: "0", "aria-label": label,
                              viewBox: `0 0 ${this.width} ${height}`, preserveAspectRatio: "none" });
    this.legend = h("div", { class: "legend" });
    this.readout = h("div", { class: "small muted", "aria-live": "polite" }, " ");
    mount(container, this.svg, this.legend, this.readout);
    this.pad = { l: 52, r: 12, t: 10, b: 24 };
    this.drag = null;
    this.svg.addEventListener("pointerdown", (e) => this.pointerDown(e));
    this.svg.addEventListener("pointermove", (e) => this.pointerMove(e));
    this.svg.addEventListener("pointerup", (e) => this.pointerUp(e));
    this.svg.addEventListener("pointerleave", () => { this.cursor = null; this.draw(); });
    this.svg.addEventListener("keydown", (e) => this.key(e));
    this.resize = new ResizeObserver(() => this.measure());
    this.resize.observe(this.svg);
  }

  destroy() { this.resize.disconnect(); }

  measure() {
    const box = this.svg.getBoundingClientRect();
    if (box.width > 0) {
      this.width = Math.round(box.width);
      this.svg.setAttribute("viewBox", `0 0 ${this.width} ${this.height}`);
      this.draw();
    }
  }

  setRange(start, end) { this.range = [start, end]; this.draw(); }
  setSeries(series) { this.series = series; this.draw(); }
  setMarkers(markers) { this.markers = markers; this.draw(); }

  /** Add one live point to the series labelled `label`. */
  append(label, t, value) {
    const s = this.series.find((x) => x.label === label);
    if (!s || value === null || value === undefined) return;
    const last = s.points[s.points.length - 1];
    if (last && last[0] >= t) return;
    s.points.push([t, value]);
    if (t > this.range[1]) {
      const span = this.range[1] - this.range[0];
      this.range = [t - span, t];
    }
    this.draw();
  }

  x(t) {
    const [a, b] = this.range;
    return this.pad.l + ((t - a) / Math.max(1, b - a)) * (this.width - this.pad.l - this.pad.r);
  }

  t(x) {
    const [a, b] = this.range;
    return a + ((x - this.pad.l) / (this.width - this.pad.l - this.pad.r)) * (b - a);
  }

  yScale() {
    let lo = Infinity;
    let hi = -Infinity;
    const [a, b] = this.range;
    for (const s of this.series) {
      for (const [t, v] of s.points) if (t >= a && t <= b) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      for (const [t, l, u] of s.band ?? []) if (t >= a && t <= b) { lo = Math.min(lo, l); hi = Math.max(hi, u); }
    }
    if (!Number.isFinite(lo)) { lo = 0; hi = 1; }
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    const margin = (hi - lo) * 0.08;
    lo -= margin; hi += margin;
    const top = this.pad.t;
    const bottom = this.height - this.pad.b;
    return { lo, hi, y: (v) => bottom - ((v - lo) / (hi - lo)) * (bottom - top) };
  }

  draw() {
    const { lo, hi, y } = this.yScale();
    const [a, b] = this.range;
    const span = b - a;
    const nodes = [];
    const bottom = this.height - this.pad.b;
    nodes.push(h("svg:line", { class: "axis", x1: this.pad.l, x2: this.width - this.pad.r, y1: bottom, y2: bottom }));
    const vstep = niceStep(hi - lo, 5);
    for (let v = Math.ceil(lo / vstep) * vstep; v <= hi; v += vstep) {
      nodes.push(h("svg:line", { class: "axis", x1: this.pad.l, x2: this.width - this.pad.r, y1: y(v), y2: y(v), opacity: 0.4 }));
      nodes.push(h("svg:text", { x: this.pad.l - 6, y: y(v) + 4, "text-anchor": "end" }, +v.toFixed(6)));
    }
    const tstep = TIME_STEPS.find((s) => span / s <= 7) ?? TIME_STEPS[TIME_STEPS.length - 1];
    const offset = new Date().getTimezoneOffset() * 60e3;
    for (let t = Math.ceil((a - offset) / tstep) * tstep + offset; t <= b; t += tstep) {
      nodes.push(h("svg:text", { x: this.x(t), y: this.height - 6, "text-anchor": "middle" }, timeLabel(t, span)));
    }
    if (this.unit) nodes.push(h("svg:text", { x: 4, y: 12 }, this.unit));
    for (const s of this.series) {
      if (s.band?.length) {
        const inside = s.band.filter(([t]) => t >= a - span * 0.05 && t <= b + span * 0.05);
        if (inside.length > 1) {
          const up = inside.map(([t, , u]) => `${this.x(t).toFixed(1)},${y(u).toFixed(1)}`);
          const down = inside.slice().reverse().map(([t, l]) => `${this.x(t).toFixed(1)},${y(l).toFixed(1)}`);
          nodes.push(h("svg:polygon", { class: "band", fill: s.color, points: [...up, ...down].join(" ") }));
        }
      }
      const pts = s.points.filter(([t]) => t >= a - span * 0.05 && t <= b + span * 0.05);
      if (pts.length) {
        const d = pts.map(([t, v], i) => `${i ? "L" : "M"}${this.x(t).toFixed(1)},${y(v).toFixed(1)}`).join("");
        nodes.push(h("svg:path", { class: "line", stroke: s.color, d, "stroke-dasharray": s.dashed ? "5 4" : null }));
        if (pts.length === 1) nodes.push(h("svg:circle", { cx: this.x(pts[0][0]), cy: y(pts[0][1]), r: 3, fill: s.color }));
      }
    }
    for (const m of this.markers) {
      if (m.t < a || m.t > b) continue;
      nodes.push(h("svg:line", { class: "marker", x1: this.x(m.t), x2: this.x(m.t), y1: this.pad.t, y2: bottom },
        h("svg:title", {}, m.label)));
    }
    if (this.drag && this.drag.x1 !== undefined) {
      const x0 = Math.min(this.drag.x0, this.drag.x1);
      nodes.push(h("svg:rect", { class: "brush", x: x0, y: this.pad.t, width: Math.abs(this.drag.x1 - this.drag.x0), height: bottom - this.pad.t }));
    }
    if (this.cursor !== null) {
      nodes.push(h("svg:line", { class: "cursor", x1: this.x(this.cursor), x2: this.x(this.cursor), y1: this.pad.t, y2: bottom }));
    }
    mount(this.svg, nodes);
    mount(this.legend, this.series.map((s) => h("span", { style: { "--c": s.color } }, s.label)));
    this.updateReadout();
  }

  updateReadout() {
    if (this.cursor === null) { this.readout.textContent = " "; return; }
    const parts = [new Date(this.cursor).toLocaleString()];
    for (const s of this.series) {
      let best = null;
      for (const p of s.points) if (p[0] <= this.cursor) best = p; else break;
      if (best) parts.push(`${s.label}: ${+best[1].toFixed(2)}${this.unit ? " " + this.unit : ""}`);
    }
    this.readout.textContent = parts.join(" · ");
  }

  local(e) {
    const box = this.svg.getBoundingClientRect();
    return ((e.clientX - box.left) / box.width) * this.width;
  }

  pointerDown(e) { this.drag = { x0: this.local(e) }; this.svg.setPointerCapture(e.pointerId); }

  pointerMove(e) {
    const x = this.local(e);
    this.cursor = this.t(x);
    if (this.drag) this.drag.x1 = x;
    this.draw();
  }

  pointerUp(e) {
    const drag = this.drag;
    this.drag = null;
    if (drag && drag.x1 !== undefined && Math.abs(drag.x1 - drag.x0) > 8 && this.onZoom) {
      const t0 = this.t(Math.min(drag.x0, drag.x1));
      const t1 = this.t(Math.max(drag.x0, drag.x1));
      this.onZoom(t0, t1);
    }
    this.draw();
    this.svg.releasePointerCapture(e.pointerId);
  }

  key(e) {
    const [a, b] = this.range;
    const step = (b - a) / 50;
    if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      e.preventDefault();
      const now = this.cursor ?? (a + b) / 2;
      this.cursor = Math.min(b, Math.max(a, now + (e.key === "ArrowLeft" ? -step : step)));
      this.draw();
    } else if ((e.key === "+" || e.key === "=") && this.onZoom) {
      const c = this.cursor ?? (a + b) / 2;
      this.onZoom(c - (b - a) / 4, c + (b - a) / 4);
    } else if (e.key === "Escape") {
      this.cursor = null;
      this.draw();
    }
  }
}

/** Range presets of the chart toolbars, in seconds. */
export const RANGES = [["15 min", 900], ["1 h", 3600], ["6 h", 21600], ["24 h", 86400], ["7 d", 604800]];

/** Bucket width so a range draws about `points` points per series (seconds, >= 1). */
export function bucketFor(startMs, endMs, points = 300) {
  return Math.max(1, Math.round((endMs - startMs) / 1000 / points));
}

/** /v1 QueryHistory answer to chart points and min/max band. */
export function toSeries(answer) {
  if (answer.buckets?.length) {
    const points = [];
    const band = [];
    for (const b of answer.buckets) {
      if (b.mean === undefined || b.mean === null) continue;
      const t = Date.parse(b.startTime);
      points.push([t, b.mean]);
      band.push([t, b.min, b.max]);
    }
    return { points, band };
  }
  const points = [];
  for (const p of answer.points ?? []) {
    const v = typeof p.value === "boolean" ? Number(p.value)
      : p.value === "occupied" ? 1 : p.value === "vacant" ? 0 : p.value;
    if (typeof v === "number") points.push([Date.parse(p.time), v]);
  }
  return { points, band: [] };
}
