// Sources: cells, Wi-Fi access points, BLE beacons and environment sensors, by kind.
import { searchAll } from "../api.js";
import { fmtAgo, fmtTime, h, KIND_LABEL, kindOf, mount, ratOf, twinHref } from "../dom.js";

const TABS = [["cell", "Cells"], ["wifi", "Wi-Fi"], ["ble", "BLE"], ["sensor", "Sensors"]];

function describe(id, a) {
  const kind = kindOf(id);
  if (kind === "cell") return [ratOf(id)?.toUpperCase(), a.mcc ? `PLMN ${a.mcc}-${a.mnc}` : null,
    a.pci !== undefined ? `PCI ${a.pci}` : null, a.earfcn ? `EARFCN ${a.earfcn}` : null,
    a.nrArfcn ? `NR-ARFCN ${a.nrArfcn}` : null, a.tac ? `TAC ${a.tac}` : null];
  if (kind === "wifi") return [a.ssid ?? "(hidden)", a.frequency ? `${a.frequency} MHz` : null, a.bssid];
  if (kind === "ble") return [a.name, a.major !== undefined ? `major ${a.major} minor ${a.minor}` : null,
    a.connectable === false ? "advertise-only" : a.connectable ? "connectable" : null];
  const readings = [a.co2 !== undefined ? `CO2 ${a.co2} ppm` : null,
    a.temperature !== undefined ? `${a.temperature} °C` : null,
    a.occupancy ? a.occupancy : null, a.location?.zone ? `zone ${a.location.zone}` : null];
  return readings;
}

export async function render(main, initial) {
  let tab = sessionStorage.getItem("ndtwin.sources.tab") ?? "cell";
  const body = h("div", { class: "panel" });
  const buttons = TABS.map(([key, label]) => h("button", { type: "button", "aria-pressed": String(key === tab),
    onclick: () => { tab = key; sessionStorage.setItem("ndtwin.sources.tab", key); load(); } }, label));

  async function load() {
    buttons.forEach((b, i) => b.setAttribute("aria-pressed", String(TABS[i][0] === tab)));
    const items = await searchAll({ namespaces: tab, fields: "thingId,attributes" }, 2000);
    mount(body, h("table", { id: "sources" },
      h("thead", {}, h("tr", {}, h("th", {}, KIND_LABEL[tab]), h("th", {}, "Details"), h("th", {}, "Last seen"))),
      h("tbody", {}, items.length ? items.map((t) => h("tr", {},
        h("td", {}, h("a", { href: twinHref(t.thingId) }, t.thingId)),
        h("td", { class: "small" }, describe(t.thingId, t.attributes ?? {}).filter(Boolean).join(" · ")),
        h("td", { title: fmtTime(t.attributes?.lastSeen) }, fmtAgo(t.attributes?.lastSeen))))
        : h("tr", {}, h("td", { colspan: 3, class: "muted" }, "None yet.")))));
  }
  mount(main, h("h1", {}, "Sources"), h("div", { class: "tabs", role: "group", "aria-label": "Kind" }, buttons), body);
  await load();
  return undefined;
}
