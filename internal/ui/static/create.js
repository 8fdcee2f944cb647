// mlfleet Studio: Create inference cluster (#/clusters/new): a new Kubernetes cluster
// created from the workspace. The body carries only the fields the user changed, so that
// the server applies its own defaults to the rest.

import { createOnly, paths, versions } from "./api.js";
import { append, errorBox, field, h, markTouched, select, setOptions, showResult, touched } from "./dom.js";
import { locations, sizeLabel, sizeOf, vmSizes } from "./data.js";
import { capacityPanel, clearOnEdit, DEFAULTS, dryRun, formButtons, loadBalancerField, nameField, purposeField, submitCompute, tlsField } from "./forms.js";
import { state } from "./app.js";

export function renderCreate(main) {
  const ws = state.workspace;
  const form = h("form", { class: "card form", id: "create-form", novalidate: false });
  const loc = select("create-location", [ws.location], ws.location);
  const name = nameField("create", () => loc.value);
  const purpose = purposeField("create", () => updateCapacity());
  const count = h("input", { id: "create-count", type: "number", min: 1, max: 100, step: 1, value: DEFAULTS.agentCount, required: true });
  const size = select("create-vmsize", [{ value: DEFAULTS.vmSize, label: DEFAULTS.vmSize }], DEFAULTS.vmSize);
  const capacity = capacityPanel("create-capacity");
  const version = h("p", { class: "hint", id: "create-version" }, "Kubernetes version: loading…");
  const lb = loadBalancerField("create");
  const tls = tlsField("create");
  const result = h("div", { class: "result", id: "create-result" });
  markTouched(count, size, loc);

  function updateCapacity() {
    capacity.update(Number.parseInt(count.value, 10), sizeOf(size.value), purpose.value());
  }
  count.addEventListener("input", updateCapacity);
  size.addEventListener("change", updateCapacity);
  loc.addEventListener("change", () => {
    name.check();
    showDefaultVersion();
  });
  async function showDefaultVersion() {
    const l = loc.value;
    try {
      const o = await state.client.get(paths.orchestrators(state.ctx.sub, l), versions.orchestrators);
      const def = ((o.properties && o.properties.orchestrators) || []).find((x) => x.default);
      if (l === loc.value) {
        version.textContent = def ? `Kubernetes version: ${def.orchestratorVersion}, the default of ${l}. A cluster created from a workspace gets its location's default.` : `No default Kubernetes version in ${l}.`;
      }
    } catch (e) {
      version.textContent = `Kubernetes version: unknown (${e.code}: ${e.message})`;
    }
  }

  function body() {
    const props = {};
    if (touched(count)) {
      props.agentCount = Number.parseInt(count.value, 10);
    }
    if (touched(size)) {
      props.agentVmSize = size.value;
    }
    if (purpose.touched()) {
      props.clusterPurpose = purpose.value();
    }
    lb.set(props);
    tls.set(props);
    const b = { location: ws.location, properties: { computeType: "AKS", properties: props } };
    if (loc.value !== ws.location) {
      b.properties.computeLocation = loc.value;
    }
    return b;
  }

  append(form, [
    h("p", { class: "lead" }, `A new Kubernetes cluster, created in resource group ${state.ctx.rg} and attached to workspace ${ws.name}.`),
    name.wrap,
    purpose.wrap,
    h("fieldset", { class: "group" }, h("legend", {}, "Nodes"),
      h("div", { class: "row2" },
        field("Node count", count),
        field("VM size", size, "Cores per node are shown with each size.")),
      capacity.el),
    h("fieldset", { class: "group" }, h("legend", {}, "Location and network"),
      field("Location", loc, "Where the cluster runs; the compute name must be unique there."),
      version,
      lb.wrap),
    tls.wrap,
    formButtons("create", "Create", () => dryRun(name.input.value.trim(), body(), result, "The checks found problems", createOnly)),
    result,
  ]);
  clearOnEdit(form, result);
  submitCompute(form, name, result, () => ({ body: body() }), "Creating", "created");

  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/clusters" }, "Inference clusters"), " › Create"),
    h("h1", {}, "Create inference cluster"),
    form);
  updateCapacity();
  showDefaultVersion();
  vmSizes().then((sizes) => {
    const list = [...sizes.values()].sort((a, b) => a.numberOfCores - b.numberOfCores || a.name.localeCompare(b.name));
    setOptions(size, list.map((s) => ({ value: s.name, label: sizeLabel(s) })), size.value);
    updateCapacity();
  }).catch((e) => showResult(result, errorBox(e, "The VM sizes could not be listed")));
  locations().then((locs) => setOptions(loc, locs, loc.value)).catch(() => {});
  name.input.focus();
}
