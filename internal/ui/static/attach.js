// mlfleet Studio: Attach inference cluster (#/clusters/attach): a managed cluster that
// exists, picked from the subscription's list or named by its resource id, with its nodes
// shown against the purpose's minimum.

import { createOnly, paths, versions } from "./api.js";
import { append, clear, errorBox, field, h, plural, select, setOptions, showResult } from "./dom.js";
import { sizeOf, vmSizes } from "./data.js";
import { capacityPanel, checksError, clearOnEdit, FASTPROD_MIN_NODES, formButtons, loadBalancerField, nameField, PRODUCTION_MIN_VCPUS, purposeField, renderChecks, submitCompute, tlsField } from "./forms.js";
import { state } from "./app.js";

export function renderAttach(main) {
  const ws = state.workspace;
  const form = h("form", { class: "card form", id: "attach-form" });
  const pick = h("input", { type: "radio", name: "attach-source", id: "attach-source-pick", value: "pick", checked: true });
  const paste = h("input", { type: "radio", name: "attach-source", id: "attach-source-id", value: "id" });
  const cluster = select("attach-cluster", [{ value: "", label: "Loading clusters…" }]);
  cluster.className = "wide";
  const rid = h("input", { id: "attach-resource-id", class: "wide", autocomplete: "off", spellcheck: "false", placeholder: "/subscriptions/…/resourceGroups/…/providers/Microsoft.ContainerService/managedClusters/…" });
  const summary = h("div", { class: "cluster-summary", id: "attach-summary", "aria-live": "polite" });
  let clusters = [];
  // The cluster picked, or the listed cluster whose id was pasted (ARM ids compare without case).
  const chosen = () => (pick.checked ? clusters.find((c) => c.id === cluster.value)
    : clusters.find((c) => c.id.toLowerCase() === rid.value.trim().toLowerCase())) || null;
  const name = nameField("attach", () => (chosen() ? chosen().location : ""));
  const purpose = purposeField("attach", () => updateSummary());
  const capacity = capacityPanel("attach-capacity");
  const lb = loadBalancerField("attach");
  const tls = tlsField("attach");
  const force = h("input", { type: "checkbox", id: "attach-force" });
  const result = h("div", { class: "result", id: "attach-result" });
  const pickField = field("Managed cluster", cluster, `Clusters of subscription ${state.ctx.sub}.`);
  const idField = field("Resource id", rid, "The ARM id of a managedClusters resource in this subscription.");

  function resourceId() {
    return pick.checked ? cluster.value : rid.value.trim();
  }
  function updateSummary() {
    pickField.hidden = !pick.checked;
    idField.hidden = pick.checked;
    clear(summary);
    const c = chosen();
    if (!c) {
      capacity.update(NaN, null, purpose.value(), pick.checked ? "Pick a cluster to see its vCPUs against the purpose's minimum."
        : "Paste the id of a cluster of this subscription to see its vCPUs against the purpose's minimum.");
      return;
    }
    const pools = (c.properties && c.properties.agentPoolProfiles) || [];
    const nodes = pools.reduce((n, p) => n + (p.count || 0), 0);
    const size = pools.length ? sizeOf(pools[0].vmSize) : null;
    const mixed = pools.some((p) => pools[0] && p.vmSize !== pools[0].vmSize);
    summary.append(h("dl", { class: "props compact" },
      h("dt", {}, "Resource group"), h("dd", {}, c.id.split("/")[4] || ""),
      h("dt", {}, "Location"), h("dd", {}, c.location),
      h("dt", {}, "Kubernetes"), h("dd", {}, c.properties.currentKubernetesVersion || c.properties.kubernetesVersion || "—"),
      h("dt", {}, "State"), h("dd", {}, c.properties.provisioningState || "—")));
    capacity.update(nodes, mixed ? null : size, purpose.value(), "Attach checks the cluster's live nodes again.", attachFix(c, pools, size));
  }
  // attachFix is the advice of a failed capacity rule: the purpose is what this form can
  // change; the cluster's nodes only a scale of the cluster (its command, for one pool).
  function attachFix(c, pools, size) {
    if (pools.length !== 1 || !size) {
      return "Pick Dev/test above, or scale the cluster first.";
    }
    const need = Math.max(Math.ceil(PRODUCTION_MIN_VCPUS / size.numberOfCores), purpose.value() === "FastProd" ? FASTPROD_MIN_NODES : 1);
    return `Pick Dev/test above, or scale the cluster to ${plural(need, "node")} first (mlfleet aks scale -n ${c.name} -g ${c.id.split("/")[4]} --node-count ${need}).`;
  }
  for (const r of [pick, paste]) {
    r.addEventListener("change", () => {
      updateSummary();
      name.check();
    });
  }
  cluster.addEventListener("change", () => {
    updateSummary();
    name.check();
  });
  rid.addEventListener("input", () => {
    updateSummary();
    name.check();
  });

  function body() {
    const props = {};
    if (purpose.touched()) {
      props.clusterPurpose = purpose.value();
    }
    lb.set(props);
    tls.set(props);
    return { location: ws.location, properties: { computeType: "AKS", resourceId: resourceId(), properties: props } };
  }
  function query() {
    return force.checked ? { force: "true" } : {};
  }

  append(form, [
    h("p", { class: "lead" }, `Attach a Kubernetes cluster that exists to workspace ${ws.name}. mlfleet installs its components in the cluster; detaching removes them and leaves the cluster.`),
    name.wrap,
    h("fieldset", { class: "group" }, h("legend", {}, "Cluster"),
      h("div", { class: "radio-inline" },
        h("span", { class: "radio" }, pick, h("label", { for: pick.id }, "Pick a cluster")),
        h("span", { class: "radio" }, paste, h("label", { for: paste.id }, "Paste a resource id"))),
      pickField, idField, summary),
    purpose.wrap,
    capacity.el,
    h("fieldset", { class: "group" }, h("legend", {}, "Network"), lb.wrap),
    tls.wrap,
    h("div", { class: "check" }, force, h("label", { for: force.id }, "If the cluster is attached elsewhere, detach it there first (force)")),
    formButtons("attach", "Attach", async () => {
      const n = name.input.value.trim();
      if (!n) {
        showResult(result, errorBox({ code: "", message: "Enter a compute name first." }, "Nothing to check"));
        return;
      }
      clear(result).append(h("p", { class: "muted" }, "Checking…"));
      try {
        const res = await state.client.request("PUT", paths.compute(state.ctx, n), { apiVersion: versions.ml, query: { ...query(), validateOnly: "true" }, body: body(), headers: createOnly });
        showResult(result, renderChecks(res.data || {}, res.warnings));
      } catch (e) {
        showResult(result, checksError(e, e.status === 409 ? "The cluster cannot be attached" : "The checks found problems"));
      }
    }),
    result,
  ]);
  clearOnEdit(form, result);
  submitCompute(form, name, result, () => ({ query: query(), body: body() }), "Attaching", "attached");

  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/clusters" }, "Inference clusters"), " › Attach"),
    h("h1", {}, "Attach inference cluster"),
    form);
  updateSummary();
  Promise.all([vmSizes(), state.client.list(paths.managedClusters(state.ctx.sub), versions.containerService)]).then(([, list]) => {
    clusters = list.sort((a, b) => a.name.localeCompare(b.name));
    const options = clusters.map((c) => {
      const pools = c.properties.agentPoolProfiles || [];
      const nodes = pools.reduce((n, p) => n + (p.count || 0), 0);
      const size = pools.length ? pools[0].vmSize : "?";
      return { value: c.id, label: `${c.name} — ${c.id.split("/")[4]} · ${c.location} · ${nodes} × ${size}` };
    });
    setOptions(cluster, options.length ? [{ value: "", label: "Choose a cluster…" }, ...options] : [{ value: "", label: "(no managed clusters in this subscription)" }]);
    updateSummary();
  }).catch((e) => {
    setOptions(cluster, [{ value: "", label: "(the clusters could not be listed)" }]);
    showResult(result, errorBox(e, "The managed clusters could not be listed"));
  });
  name.input.focus();
}
