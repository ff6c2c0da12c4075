// Sign in with a tenant API key: checked with GET /api/2/whoami, which names the tenant.
import { signIn } from "../api.js";
import { h, mount } from "../dom.js";

export async function render(main) {
  const input = h("input", { id: "key", type: "password", autocomplete: "current-password",
                             placeholder: "tenant.xxxxxxxx", required: true, spellcheck: "false" });
  const message = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "panel signin", onsubmit: async (event) => {
    event.preventDefault();
    message.textContent = "";
    try {
      const tenant = await signIn(input.value.trim());
      const after = sessionStorage.getItem("ndtwin.after");
      sessionStorage.removeItem("ndtwin.after");
      location.hash = after && after !== "#/signin" ? after : "#/devices";
      document.getElementById("tenant").textContent = `tenant ${tenant}`;
    } catch (err) {
      message.textContent = err.status === 401 ? "That key is not valid." : `Sign-in failed: ${err.message}`;
      input.select();
    }
  } },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Use your tenant's API key (",
      h("span", { class: "mono" }, "ndtwin serve"), " prints the demo tenant's key on its first start; ",
      h("span", { class: "mono" }, "ndtwin tenant create NAME"), " makes more)."),
    h("p", {}, h("label", { for: "key" }, "API key"), " ", input),
    h("p", {}, h("button", { type: "submit", class: "primary" }, "Sign in")),
    message);
  mount(main, form);
  input.focus();
}
