// Models: every SDF model with its compiled forms (SHACL shapes, WoT Thing Models, Ditto
// definitions, JSON Schemas), from the /v1 ModelService.
import { getModel, listModels } from "../api.js";
import { h, mount } from "../dom.js";

const VIEWS = [["MODEL_VIEW_SDF", "SDF"], ["MODEL_VIEW_SHACL", "SHACL"], ["MODEL_VIEW_WOT_TM", "Thing Model"],
               ["MODEL_VIEW_DITTO", "Ditto"], ["MODEL_VIEW_JSON_SCHEMA", "JSON Schema"]];

export async function render(main, selected) {
  const models = await listModels();
  const name = selected ? `models/${selected}` : models[0]?.name;
  let view = sessionStorage.getItem("ndtwin.models.view") ?? "MODEL_VIEW_SHACL";
  const body = h("div", { id: "model-files" });
  const tabs = VIEWS.map(([key, label]) => h("button", { type: "button", "aria-pressed": String(key === view),
    onclick: () => { view = key; sessionStorage.setItem("ndtwin.models.view", key); show(); } }, label));

  async function show() {
    tabs.forEach((t, i) => t.setAttribute("aria-pressed", String(VIEWS[i][0] === view)));
    mount(body, h("p", { class: "muted" }, "Loading…"));
    const model = await getModel(name, view);
    mount(body,
      h("p", { class: "small" }, `${model.title ?? ""} · version ${model.version ?? "–"} · `,
        h("span", { class: "mono" }, model.namespace ?? ""), ` · ${model.origin === "ORIGIN_TENANT" ? "registered by this tenant" : "built in"}`),
      h("p", { class: "small muted" }, "Definitions: ", (model.definitions ?? []).join(", ") || "–"),
      (model.files ?? []).map((file) => h("section", {},
        h("h3", {}, file.path, " ", h("span", { class: "badge" }, file.mediaType)),
        h("pre", { class: "code", tabindex: "0" }, file.content))));
    body.dataset.view = view;
  }

  mount(main,
    h("h1", {}, "Models"),
    h("div", { class: "grid2", style: { "grid-template-columns": "240px 1fr" } },
      h("nav", { class: "panel", "aria-label": "Models", style: { display: "block" } },
        h("ul", { style: { "list-style": "none", padding: 0, margin: 0 } },
          models.map((m) => h("li", {}, h("a", { href: `#/${m.name}`, "aria-current": m.name === name ? "page" : null,
            style: { display: "block", padding: "4px 6px" } }, m.name.slice(7), h("div", { class: "small muted" }, m.title ?? "")))))),
      h("section", { class: "panel", "aria-label": "Model" },
        h("h2", {}, name?.slice(7) ?? "No models"), h("div", { class: "tabs", role: "group", "aria-label": "Representation" }, tabs), body)));
  if (name) await show();
  return undefined;
}
