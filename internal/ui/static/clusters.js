// mlfleet Studio: Compute → Inference clusters (#/clusters): the list of a workspace's
// inference clusters (state, purpose, nodes, Kubernetes version, conditions, row actions)
// and a cluster's detail (#/clusters/<name>: properties, warnings, provisioning errors,
// conditions).

import { $, button, clear, code, errorBox, fmtDuration, fmtTime, h, operationError } from "./dom.js";
import { aks, findCompute, isCreated, mlf, refreshList, sizeOf, vmSizes } from "./data.js";
import { anyBusy, busy, BUSY_STATES, keepFocus, updateLiveViews } from "./operations.js";
import { openRemove, openScale } from "./dialogs.js";
import { go, state } from "./app.js";

const CONDITIONS = ["Reachable", "VersionSupported", "CapacitySufficient", "ComponentsReady"];

// ---------- Inference clusters ----------

export function renderClusters(main) {
  const ws = state.workspace;
  main.append(
    h("div", { class: "page-head" },
      h("h1", {}, "Inference clusters"),
      h("p", { class: "lead" }, `Kubernetes clusters of workspace ${ws.name} (${ws.location}) that models are deployed to. Create a new cluster from the workspace, or attach one that exists.`)),
    h("div", { class: "toolbar", role: "toolbar", "aria-label": "Inference clusters" },
      button("+ Create", { class: "primary", id: "create-button", onClick: () => go("#/clusters/new") }),
      button("Attach", { id: "attach-button", onClick: () => go("#/clusters/attach") }),
      button("Refresh", { id: "refresh-button", onClick: () => refreshList() }),
      h("span", { class: "refresh-status muted", id: "refresh-status" })),
    h("div", { id: "list-error" }),
    h("div", { class: "table-wrap" },
      h("table", { class: "grid cards", id: "computes" },
        h("caption", { class: "sr-only" }, `Inference clusters of workspace ${ws.name}`),
        h("thead", {}, h("tr", {},
          ["Name", "State", "Purpose", "Nodes", "Kubernetes", "Conditions", "Type", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", { id: "computes-body" }))));
  fillClusters();
  if (!state.listLoaded) {
    refreshList();
  }
}

export function fillClusters() {
  const body = $("computes-body");
  keepFocus(body, () => {
    clear(body);
    if (!state.listLoaded) {
      body.append(h("tr", {}, h("td", { colspan: 8, class: "empty" }, "Loading…")));
    } else if (state.computes.length === 0 && !state.listError) {
      body.append(h("tr", {}, h("td", { colspan: 8, class: "empty" },
        "No inference clusters yet. Create one, or attach a cluster that exists.")));
    }
    const sorted = [...state.computes].sort((a, b) => a.name.localeCompare(b.name));
    for (const c of sorted) {
      body.append(clusterRow(c));
    }
  });
  const err = $("list-error");
  clear(err);
  if (state.listError) {
    err.append(errorBox(state.listError, "The inference clusters could not be listed"));
  }
  const status = $("refresh-status");
  if (status && state.lastRefresh) {
    status.textContent = refreshStatus();
  }
}

// refreshStatus is the line beside Refresh: when the list was updated, or, when the last
// refresh failed, that it failed and when the list shown was last updated (it may be stale).
function refreshStatus() {
  const every = anyBusy() ? "refreshing every 2 s while an operation runs" : "auto-refresh every 30 s";
  if (!state.listError) {
    return `Updated ${fmtTime(new Date(state.lastRefresh))} · ${every}`;
  }
  const last = state.lastListed ? `last updated ${fmtTime(new Date(state.lastListed))}` : "not updated since the page opened";
  return `Refresh failed at ${fmtTime(new Date(state.lastRefresh))} (${last}) · ${every.replace(/^auto-refresh/, "retrying")}`;
}

function clusterRow(c) {
  const p = aks(c);
  const tr = h("tr", { "data-name": c.name });
  tr.append(
    h("td", { "data-label": "Name" }, h("a", { href: `#/clusters/${encodeURIComponent(c.name)}`, "data-key": `${c.name}:open`, class: "name" }, c.name)),
    h("td", { "data-label": "State" }, stateCell(c)),
    h("td", { "data-label": "Purpose" }, p.clusterPurpose || "—"),
    h("td", { "data-label": "Nodes" }, nodesCell(c)),
    h("td", { "data-label": "Kubernetes" }, mlf(c).kubernetesVersion || "—"),
    h("td", { "data-label": "Conditions" }, conditionsCell(c)),
    h("td", { "data-label": "Type" }, isCreated(c) ? "Created" : "Attached"),
    h("td", { "data-label": "Actions" }, actions(c)));
  return tr;
}

function stateCell(c) {
  const op = state.ops.get(c.name.toLowerCase());
  const ps = c.properties.provisioningState || "Unknown";
  const wrap = h("div", { class: "state" });
  if (op || BUSY_STATES.has(ps)) {
    const label = op ? op.label : ps;
    const since = op ? op.started : Date.parse(c.properties.modifiedOn || "") || Date.now();
    wrap.append(
      h("span", { class: "badge badge-busy" }, label),
      h("progress", { "aria-label": `${label} ${c.name}` }),
      h("span", { class: "muted small" }, fmtDuration(Date.now() - since)));
    return wrap;
  }
  wrap.append(h("span", { class: `badge badge-${ps.toLowerCase()}` }, ps));
  const errs = c.properties.provisioningErrors || [];
  if (ps === "Failed" && errs.length > 0) {
    const e = errs[0].error || {};
    wrap.append(h("span", { class: "state-error" }, `${e.code || ""} ${e.message || ""}`.trim()));
  }
  return wrap;
}

function nodesCell(c) {
  const p = aks(c);
  if (p.agentCount === null || p.agentCount === undefined) {
    return "—";
  }
  const auto = mlf(c).autoscale;
  // An autoscaled cluster shows its range, as the portal does, and how many nodes run now.
  const text = auto ? `${auto.minCount}–${auto.maxCount} × ${p.agentVmSize || "?"} (autoscale)` : `${p.agentCount} × ${p.agentVmSize || "?"}`;
  const size = sizeOf(p.agentVmSize);
  if (!size) {
    if (!state.vmSizes && !state.vmSizesLoading) {
      state.vmSizesLoading = vmSizes().then(() => updateLiveViews()).catch(() => {}).finally(() => {
        state.vmSizesLoading = null;
      });
    }
    return text;
  }
  const now = auto ? `${p.agentCount} nodes now, ` : "";
  return h("span", {}, text, h("span", { class: "muted small block" }, `${now}${p.agentCount * size.numberOfCores} vCPUs`));
}

function conditionsCell(c) {
  const conds = mlf(c).conditions || [];
  if (conds.length === 0) {
    return h("span", { class: "muted" }, "—");
  }
  const bad = conds.filter((x) => x.status !== "True");
  if (bad.length === 0) {
    return h("span", { class: "cond-ok", title: conds.map((x) => x.type).join(", ") }, `✓ All ${conds.length} true`);
  }
  const ul = h("ul", { class: "cond-list" });
  for (const x of bad) {
    ul.append(h("li", { class: x.status === "False" ? "cond-false" : "cond-unknown" },
      h("strong", {}, `${x.status === "False" ? "✗" : "?"} ${x.type}`), x.message ? `: ${x.message}` : ""));
  }
  return ul;
}

function actions(c) {
  const disabled = busy(c);
  const wrap = h("div", { class: "row-actions" });
  wrap.append(
    button("Scale", { "aria-label": `Scale ${c.name}`, "data-key": `${c.name}:scale`, disabled, onClick: () => openScale(c.name) }),
    button("Detach", { "aria-label": `Detach ${c.name}`, "data-key": `${c.name}:detach`, disabled, onClick: () => openRemove(c.name, "Detach") }));
  if (isCreated(c)) {
    wrap.append(button("Delete", { class: "danger", "aria-label": `Delete ${c.name}`, "data-key": `${c.name}:delete`, disabled, onClick: () => openRemove(c.name, "Delete") }));
  }
  return wrap;
}

// ---------- detail ----------

export function renderDetail(main, name) {
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/clusters" }, "Inference clusters"), " › ", name),
    h("h1", {}, name),
    h("div", { id: "detail" }));
  fillDetail(name);
  if (!state.listLoaded) {
    refreshList();
  }
}

export function fillDetail(name) {
  const box = $("detail");
  keepFocus(box, () => {
    clear(box);
    const c = findCompute(name);
    if (!c) {
      box.append(state.listLoaded
        ? h("p", {}, `Workspace ${state.ctx.ws} has no inference cluster named ${name}. `, h("a", { href: "#/clusters" }, "Back to the list"), ".")
        : h("p", { class: "muted" }, "Loading…"));
      return;
    }
    const p = aks(c);
    const m = mlf(c);
    box.append(h("div", { class: "toolbar" }, actions(c)));
    const dl = h("dl", { class: "props" });
    const row = (k, v) => dl.append(h("dt", {}, k), h("dd", {}, v === undefined || v === null || v === "" ? "—" : v));
    row("State", stateCell(c));
    row("Type", isCreated(c) ? "Created from this workspace (Delete also deletes the cluster)" : "Attached (the cluster is managed elsewhere)");
    row("Cluster", c.properties.resourceId ? code(c.properties.resourceId) : null);
    row("Location", c.properties.computeLocation || c.location);
    row("Cluster purpose", p.clusterPurpose);
    row("Nodes", nodesCell(c));
    row("Kubernetes version", m.kubernetesVersion);
    row("Load balancer", p.loadBalancerType + (p.loadBalancerSubnet ? ` (subnet ${p.loadBalancerSubnet})` : ""));
    row("TLS", (p.sslConfiguration && p.sslConfiguration.status) || "Disabled");
    row("Cluster FQDN", p.clusterFqdn);
    const svcs = p.systemServices || [];
    row("System services", svcs.length ? svcs.map((s) => `${s.systemServiceType} ${s.publicIpAddress || ""} (${s.version})`).join("; ") : null);
    row("Created on", c.properties.createdOn ? new Date(c.properties.createdOn).toLocaleString() : null);
    row("Modified on", c.properties.modifiedOn ? new Date(c.properties.modifiedOn).toLocaleString() : null);
    box.append(dl);
    if ((m.warnings || []).length > 0) {
      box.append(h("h2", {}, "Warnings"), h("ul", { class: "warnings" }, m.warnings.map((w) => h("li", {}, w))));
    }
    const errs = c.properties.provisioningErrors || [];
    if (errs.length > 0) {
      box.append(h("h2", {}, "Provisioning errors"), errs.map((e) => errorBox(operationError(e.error), "Provisioning error")));
    }
    box.append(h("h2", {}, "Conditions"));
    const conds = m.conditions || [];
    const byType = new Map(conds.map((x) => [x.type, x]));
    const tbody = h("tbody");
    for (const t of [...CONDITIONS, ...conds.map((x) => x.type).filter((x) => !CONDITIONS.includes(x))]) {
      const x = byType.get(t) || { type: t, status: "Unknown" };
      tbody.append(h("tr", {},
        h("th", { scope: "row" }, t),
        h("td", {}, h("span", { class: `badge cond-${(x.status || "Unknown").toLowerCase()}` }, x.status)),
        h("td", {}, x.reason || ""),
        h("td", {}, x.message || ""),
        h("td", {}, x.lastTransitionTime ? new Date(x.lastTransitionTime).toLocaleString() : "")));
    }
    box.append(h("div", { class: "table-wrap" }, h("table", { class: "grid" },
      h("thead", {}, h("tr", {}, ["Condition", "Status", "Reason", "Message", "Since"].map((t) => h("th", { scope: "col" }, t)))), tbody)));
  });
}
