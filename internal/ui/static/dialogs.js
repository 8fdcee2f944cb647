// mlfleet Studio's dialogs over an inference cluster: Scale (the node count, or the
// autoscaler's range of an autoscaled cluster), Detach and Delete, each with what it will
// do, its outcome, and the operation it starts tracked.

import { paths, versions } from "./api.js";
import { $, append, button, clear, code, errorBox, field, h, plural, showResult } from "./dom.js";
import { aks, clusterName, findCompute, mlf, sizeOf, vmSizes } from "./data.js";
import { track, updateLiveViews } from "./operations.js";
import { capacityPanel, clearOnEdit, dryRun } from "./forms.js";
import { currentRoute, go, state } from "./app.js";

function openDialog(title, build) {
  const d = $("dialog");
  clear(d);
  const close = () => d.close();
  const content = build(close);
  append(d, [h("h2", { id: "dialog-title" }, title), content]);
  d.showModal();
  const focus = d.querySelector("[autofocus]") || d.querySelector("input, select, textarea, button");
  if (focus) {
    focus.focus();
  }
}

export function openScale(name) {
  const c = findCompute(name);
  if (!c) {
    return;
  }
  const p = aks(c);
  vmSizes().catch(() => {});
  if (mlf(c).autoscale) {
    openAutoscale(c, p, mlf(c).autoscale);
    return;
  }
  openDialog(`Scale ${c.name}`, (close) => {
    const count = h("input", { id: "scale-count", type: "number", min: 1, max: 100, step: 1, value: p.agentCount, required: true, autofocus: true });
    const capacity = capacityPanel("scale-capacity");
    const result = h("div", { class: "result", id: "scale-result" });
    const update = () => capacity.update(Number.parseInt(count.value, 10), sizeOf(p.agentVmSize), p.clusterPurpose);
    count.addEventListener("input", update);
    const body = () => ({ location: c.location, properties: { computeType: "AKS", properties: { agentCount: Number.parseInt(count.value, 10) } } });
    const form = h("form", { id: "scale-form", method: "dialog" },
      h("dl", { class: "props compact" },
        h("dt", {}, "VM size"), h("dd", { id: "scale-vmsize" }, p.agentVmSize || "—",
          h("span", { class: "hint block" }, "The VM size of a compute cannot be changed; for another size, create a new compute.")),
        h("dt", {}, "Cluster purpose"), h("dd", {}, p.clusterPurpose || "—"),
        h("dt", {}, "Nodes now"), h("dd", {}, String(p.agentCount))),
      field("Node count", count),
      capacity.el,
      result,
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary", id: "scale-submit" }, "Scale"),
        button("Check", { id: "scale-check", onClick: () => form.reportValidity() && dryRun(c.name, body(), result, "The new node count is not allowed") }),
        button("Cancel", { onClick: close })));
    clearOnEdit(form, result);
    submitScale(form, result, close, `${c.name} was not scaled`, async () => {
      const res = await state.client.request("PUT", paths.compute(state.ctx, c.name), { apiVersion: versions.ml, body: body() });
      track(c.name, "Scaling", res, `to ${plural(Number.parseInt(count.value, 10), "node")}`);
    });
    update();
    vmSizes().then(update).catch(() => {});
    return form;
  });
}

// openAutoscale edits the range of an autoscaled cluster: the autoscaler sets the node
// count, so the dialog changes minCount and maxCount of its pool instead (the purpose rules
// apply to the minimum, the nodes it may shrink to).
function openAutoscale(c, p, auto) {
  openDialog(`Scale ${c.name}`, (close) => {
    const num = (id, value) => h("input", { id, type: "number", min: 1, max: 100, step: 1, value, required: true });
    const lo = num("scale-min", auto.minCount);
    const hi = num("scale-max", auto.maxCount);
    lo.autofocus = true;
    const capacity = capacityPanel("scale-capacity");
    const result = h("div", { class: "result", id: "scale-result" });
    const update = () => capacity.update(Number.parseInt(lo.value, 10), sizeOf(p.agentVmSize), p.clusterPurpose);
    lo.addEventListener("input", update);
    const form = h("form", { id: "scale-form", method: "dialog" },
      h("dl", { class: "props compact" },
        h("dt", {}, "VM size"), h("dd", { id: "scale-vmsize" }, p.agentVmSize || "—"),
        h("dt", {}, "Cluster purpose"), h("dd", {}, p.clusterPurpose || "—"),
        h("dt", {}, "Nodes now"), h("dd", {}, String(p.agentCount))),
      h("p", { class: "hint", id: "scale-autoscale-note" }, "The cluster autoscaler sets the node count within this range."),
      field("Minimum nodes", lo),
      field("Maximum nodes", hi),
      capacity.el,
      result,
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary", id: "scale-submit" }, "Save range"),
        button("Cancel", { onClick: close })));
    clearOnEdit(form, result);
    submitScale(form, result, close, `the range of ${c.name} was not changed`, async () => {
      const clusterID = c.properties.resourceId;
      const mc = await state.client.request("GET", clusterID, { apiVersion: versions.containerService });
      const pool = mc.data.properties.agentPoolProfiles[0].name;
      const body = { properties: { enableAutoScaling: true, minCount: Number.parseInt(lo.value, 10), maxCount: Number.parseInt(hi.value, 10) } };
      const res = await state.client.request("PUT", `${clusterID}/agentPools/${pool}`, { apiVersion: versions.containerService, body });
      track(c.name, "Autoscaling", res, `within ${lo.value}–${hi.value} nodes`);
    });
    update();
    vmSizes().then(update).catch(() => {});
    return form;
  });
}

// submitScale makes a scale dialog's form run send (the request and its tracking) on
// submit and then close the dialog; a failure shows in result under heading.
function submitScale(form, result, close, heading, send) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) {
      return;
    }
    const submit = $("scale-submit");
    submit.disabled = true;
    try {
      await send();
      close();
      updateLiveViews();
    } catch (e) {
      showResult(result, errorBox(e, heading));
    } finally {
      submit.disabled = false;
    }
  });
}

export function openRemove(name, action) {
  const c = findCompute(name);
  if (!c) {
    return;
  }
  const detach = action === "Detach";
  const cluster = clusterName(c) || "its cluster";
  openDialog(detach ? `Detach ${c.name}?` : `Delete ${c.name} and its cluster?`, (close) => {
    const result = h("div", { class: "result", id: "remove-result" });
    const text = detach
      ? [
        h("p", { class: "callout callout-info", id: "detach-note" }, h("strong", {}, `The cluster ${cluster} is not deleted. `),
          "It keeps running with its own workloads, and you can attach it again later."),
        h("p", {}, `Detaching removes the compute ${c.name} from workspace ${state.ctx.ws} and what mlfleet installed in the cluster (the azureml namespace with the inference front-end).`),
      ]
      : [
        h("p", { class: "callout callout-danger", id: "delete-note" }, h("strong", {}, `The cluster ${cluster} is deleted `),
          "with everything running on it. This cannot be undone."),
        h("p", {}, "To keep the cluster, detach the compute instead."),
      ];
    const confirm = button(detach ? "Detach" : "Delete cluster", { class: detach ? "primary" : "danger", id: "remove-confirm" });
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      try {
        const res = await state.client.request("DELETE", paths.compute(state.ctx, c.name), { apiVersion: versions.ml, query: { underlyingResourceAction: action } });
        track(c.name, detach ? "Detaching" : "Deleting", res);
        close();
        if (currentRoute().arg) {
          go("#/clusters");
        } else {
          updateLiveViews();
        }
      } catch (e) {
        showResult(result, errorBox(e, `${c.name} was not ${detach ? "detached" : "deleted"}`));
      } finally {
        confirm.disabled = false;
      }
    });
    return h("div", {},
      text,
      c.properties.resourceId ? h("p", { class: "muted small" }, "Cluster: ", code(c.properties.resourceId)) : null,
      result,
      h("div", { class: "actions" }, confirm, button("Cancel", { autofocus: true, onClick: close })));
  });
}
