// Devices: every `device:*` twin with its online state and last update, live.
import { countThings, followChanges, searchThings } from "../api.js";
import { fmtAgo, fmtNumber, fmtTime, h, mount, twinHref } from "../dom.js";

const FIELDS = "thingId,attributes/online,attributes/lastSeen,attributes/model,"
  + "attributes/manufacturer,attributes/deviceClass,attributes/batteryLevel,attributes/location";
const PAGE = 100;

function filterOf(text, onlineOnly) {
  const terms = [];
  // RQL `like` takes * as wildcard; quotes inside the text are dropped.
  const clean = text.replace(/["\\*]/g, "").trim();
  if (clean) terms.push(`like(thingId,"*${clean}*")`);
  if (onlineOnly) terms.push("eq(attributes/online,true)");
  if (!terms.length) return undefined;
  return terms.length === 1 ? terms[0] : `and(${terms.join(",")})`;
}

function row(item) {
  const a = item.attributes ?? {};
  const online = a.online === true;
  const loc = a.location;
  return h("tr", { dataset: { id: item.thingId } },
    h("td", {}, h("a", { href: twinHref(item.thingId) }, item.thingId.slice(7))),
    h("td", {}, h("span", { class: `dot ${online ? "on" : "off"}` }),
      h("span", { class: "state" }, online ? "online" : "offline")),
    h("td", { class: "seen", title: fmtTime(a.lastSeen), dataset: { ts: a.lastSeen ?? "" } },
      fmtAgo(a.lastSeen)),
    h("td", {}, [a.manufacturer, a.model].filter((x) => x && x !== "unknown").join(" ") || "–",
      a.deviceClass ? h("span", { class: "badge" }, a.deviceClass) : null),
    h("td", { class: "num" }, a.batteryLevel !== undefined && a.batteryLevel !== null
      ? `${fmtNumber(a.batteryLevel, 0)} %` : "–"),
    h("td", { class: "small muted" }, loc
      ? [loc.zone ?? "", loc.floor !== undefined ? ` floor ${loc.floor}` : "",
         ` ${fmtNumber(loc.lat, 5)}, ${fmtNumber(loc.lon, 5)}`].join("") : "–"));
}

export async function render(main) {
  const state = { text: "", onlineOnly: false, cursors: [undefined], page: 0 };
  const tbody = h("tbody");
  const total = h("span", { class: "muted", id: "device-count" });
  const live = h("span", { class: "muted small" }, "connecting…");
  const pageLabel = h("span", { class: "muted" });
  const prev = h("button", { type: "button", onclick: () => go(state.page - 1) }, "← Previous");
  const next = h("button", { type: "button", onclick: () => go(state.page + 1) }, "Next →");
  const search = h("input", { type: "search", placeholder: "Filter by id", "aria-label": "Filter devices by id",
    oninput: () => { state.text = search.value; reset(); } });
  const onlineBox = h("input", { type: "checkbox", onchange: () => { state.onlineOnly = onlineBox.checked; reset(); } });

  let loading = null;
  async function go(page) {
    if (page < 0 || page >= state.cursors.length) return;
    const mine = Symbol("load");
    loading = mine;
    const filter = filterOf(state.text, state.onlineOnly);
    const [result, count] = await Promise.all([
      searchThings({ namespaces: "device", filter, fields: FIELDS, size: PAGE, cursor: state.cursors[page] }),
      countThings({ namespaces: "device", filter }),
    ]);
    if (loading !== mine) return;
    state.page = page;
    if (result.cursor && state.cursors.length === page + 1) state.cursors.push(result.cursor);
    mount(tbody, result.items.length ? result.items.map(row)
      : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No devices yet. Start a simulator: ",
          h("span", { class: "mono" }, "ndtwin simulate campus --devices 20"))));
    total.textContent = `${count} device${count === 1 ? "" : "s"}`;
    pageLabel.textContent = `page ${page + 1}`;
    prev.disabled = page === 0;
    next.disabled = !result.cursor;
  }
  const reset = () => { state.cursors = [undefined]; go(0); };

  mount(main,
    h("h1", {}, "Devices ", total),
    h("div", { class: "toolbar" }, search, h("label", {}, onlineBox, "online only"), live),
    h("div", { class: "panel" },
      h("table", { id: "devices" },
        h("thead", {}, h("tr", {}, h("th", {}, "Device"), h("th", {}, "State"), h("th", {}, "Last update"),
          h("th", {}, "Model"), h("th", { class: "num" }, "Battery"), h("th", {}, "Location"))),
        tbody),
      h("div", { class: "pager" }, prev, pageLabel, next)));
  await go(0);

  // Live: rows on this page follow their twins' changes; the ages tick every second.
  const stop = followChanges({ namespaces: "device", fields: "thingId,attributes/online,attributes/lastSeen" },
    (event) => {
      const tr = tbody.querySelector(`tr[data-id="${CSS.escape(event.thingId)}"]`);
      const a = event.attributes ?? {};
      if (!tr) return;
      if (a.online !== undefined) {
        tr.querySelector(".dot").className = `dot ${a.online ? "on" : "off"}`;
        tr.querySelector(".state").textContent = a.online ? "online" : "offline";
      }
      if (a.lastSeen !== undefined) {
        const cell = tr.querySelector(".seen");
        cell.dataset.ts = a.lastSeen;
        cell.title = fmtTime(a.lastSeen);
        cell.textContent = fmtAgo(a.lastSeen);
      }
    },
    (up) => { live.className = up ? "live" : "muted small"; live.textContent = up ? "live" : "reconnecting…"; });
  const ticker = setInterval(() => {
    for (const cell of tbody.querySelectorAll(".seen")) {
      if (cell.dataset.ts) cell.textContent = fmtAgo(Number(cell.dataset.ts));
    }
  }, 1000);
  return () => { stop(); clearInterval(ticker); };
}
