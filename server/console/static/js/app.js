// The console's shell: hash routes to views, the sign-in guard and the header.
import { session, signOut } from "./api.js";
import { h, mount } from "./dom.js";

// Each route loads its view module on first use: the first page paints sooner.
const ROUTES = [
  [/^#\/signin$/, "signin", () => import("./views/signin.js")],
  [/^#\/devices$/, "devices", () => import("./views/devices.js")],
  [/^#\/sources$/, "sources", () => import("./views/sources.js")],
  [/^#\/twin\/(.+)$/, null, () => import("./views/twin.js")],
  [/^#\/graph$/, "graph", () => import("./views/graph.js")],
  [/^#\/floor$/, "floor", () => import("./views/floor.js")],
  [/^#\/analytics$/, "analytics", () => import("./views/analytics.js")],
  [/^#\/models(?:\/(.+))?$/, "models", () => import("./views/models.js")],
];

const main = document.getElementById("main");
let cleanup = null;
let generation = 0;

function header() {
  const signedIn = Boolean(session.key);
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("who").hidden = !signedIn;
  document.getElementById("tenant").textContent = signedIn ? `tenant ${session.tenant}` : "";
}

async function route() {
  const hash = location.hash || "#/devices";
  if (!session.key && hash !== "#/signin") {
    sessionStorage.setItem("ndtwin.after", hash);
    location.replace("#/signin");
    return;
  }
  header();
  if (cleanup) { try { cleanup(); } catch (err) { console.warn(err); } cleanup = null; }
  const mine = ++generation;
  for (const [pattern, nav, load] of ROUTES) {
    const match = pattern.exec(hash);
    if (!match) continue;
    for (const link of document.querySelectorAll("[data-nav]")) {
      if (link.dataset.nav === nav) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    const params = match.slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p)));
    try {
      const view = await load();
      if (mine !== generation) return;
      mount(main, h("p", { class: "muted" }, "Loading…"));
      const done = await view.render(main, ...params);
      if (mine !== generation) { if (typeof done === "function") done(); return; }
      cleanup = typeof done === "function" ? done : null;
      // Keyboard and screen-reader users start reading the new page, not the old link.
      if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
    } catch (err) {
      if (mine !== generation) return;
      console.error(err);
      mount(main, h("h1", {}, "Something went wrong"), h("p", { class: "error" }, err.message));
    }
    return;
  }
  mount(main, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/devices" }, "Devices")));
}

document.getElementById("signout").addEventListener("click", () => {
  signOut();
  location.hash = "#/signin";
});
window.addEventListener("ndtwin:unauthorized", () => {
  signOut();
  location.hash = "#/signin";
});
window.addEventListener("hashchange", route);
route();
