// mlfleet Studio: Compute → Kubernetes versions (#/versions): the versions a managed
// cluster can run in a location, with the default. No upgrades: mlfleet runs every cluster at
// the version it was created with.

import { paths, versions } from "./api.js";
import { clear, errorBox, field, h, select, setOptions, showResult } from "./dom.js";
import { locations } from "./data.js";
import { state } from "./app.js";

export function renderVersions(main) {
  const def = (state.workspace && state.workspace.location) || "westus";
  const loc = select("versions-location", [def], def);
  const out = h("div", { id: "versions-out", "aria-live": "polite" });
  main.append(
    h("div", { class: "page-head" },
      h("h1", {}, "Kubernetes versions"),
      h("p", { class: "lead" }, "The versions a managed cluster can run in a location, with the default that clusters created from a workspace get. Attached clusters must run one of them. A cluster keeps the version it was created with: mlfleet does not upgrade clusters.")),
    h("div", { class: "toolbar" }, field("Location", loc)),
    out);
  const load = async () => {
    clear(out).append(h("p", { class: "muted" }, "Loading…"));
    const l = loc.value;
    try {
      const o = await state.client.get(paths.orchestrators(state.ctx.sub, l), versions.orchestrators);
      if (l !== loc.value) {
        return;
      }
      const list = (o.properties && o.properties.orchestrators) || [];
      const tbody = h("tbody");
      for (const v of list) {
        tbody.append(h("tr", { "data-version": v.orchestratorVersion },
          h("td", { "data-label": "Version" }, h("strong", {}, v.orchestratorVersion)),
          h("td", { "data-label": "Default" }, v.default ? h("span", { class: "badge badge-succeeded" }, "Default") : ""),
          h("td", { "data-label": "Preview" }, v.isPreview ? h("span", { class: "badge badge-preview" }, "Preview: no SLA") : "")));
      }
      clear(out).append(h("div", { class: "table-wrap" }, h("table", { class: "grid cards", id: "versions-table" },
        h("caption", { class: "sr-only" }, `Kubernetes versions of ${l}`),
        h("thead", {}, h("tr", {}, ["Kubernetes version", "Default", "Preview"].map((t) => h("th", { scope: "col" }, t)))),
        tbody)));
    } catch (e) {
      showResult(out, errorBox(e, `The versions of ${l} could not be listed`));
    }
  };
  loc.addEventListener("change", load);
  load();
  locations().then((locs) => setOptions(loc, locs, loc.value)).catch(() => {});
}
