// mlfleet Studio's data: the workspace's inference clusters (the compute list, refreshed
// into state), the VM sizes and locations of the subscription (read once and kept), and the
// accessors of a compute's properties.

import { paths, versions } from "./api.js";
import { plural } from "./dom.js";
import { updateLiveViews } from "./operations.js";
import { state } from "./app.js";


export async function refreshList() {
  if (!state.workspace) {
    return;
  }
  const ctx = { ...state.ctx };
  try {
    const list = await state.client.list(paths.computes(ctx), versions.ml);
    if (ctx.ws !== state.ctx.ws || ctx.rg !== state.ctx.rg || ctx.sub !== state.ctx.sub) {
      return; // the user picked another workspace meanwhile
    }
    state.computes = list.filter((c) => c.properties && c.properties.computeType === "AKS");
    state.listError = null;
    state.lastListed = Date.now();
  } catch (e) {
    state.listError = e;
  }
  state.listLoaded = true;
  state.lastRefresh = Date.now();
  updateLiveViews();
}

export async function vmSizes() {
  if (!state.vmSizes) {
    const loc = (state.workspace && state.workspace.location) || "westus";
    const list = await state.client.list(paths.vmSizes(state.ctx.sub, loc), versions.compute);
    state.vmSizes = new Map(list.map((s) => [s.name.toLowerCase(), s]));
  }
  return state.vmSizes;
}

export async function locations() {
  if (!state.locations) {
    const list = await state.client.list(paths.locations(state.ctx.sub), versions.locations);
    state.locations = list.map((l) => l.name);
  }
  return state.locations;
}

export function sizeOf(name) {
  return (state.vmSizes && name && state.vmSizes.get(name.toLowerCase())) || null;
}

export function sizeLabel(s) {
  const mem = Math.round((s.memoryInMB / 1024) * 10) / 10;
  let label = `${s.name} · ${plural(s.numberOfCores, "vCPU")}, ${mem} GiB`;
  if (s.mlfleet && s.mlfleet.gpus) {
    label += `, ${plural(s.mlfleet.gpus, "GPU")}`;
  }
  if (s.mlfleet && s.mlfleet.fpgas) {
    label += `, ${plural(s.mlfleet.fpgas, "FPGA")}`;
  }
  return label;
}

export function findCompute(name) {
  return state.computes.find((c) => c.name.toLowerCase() === name.toLowerCase()) || null;
}

export function aks(c) {
  return (c.properties && c.properties.properties) || {};
}

export function mlf(c) {
  return (c.properties && c.properties.mlfleet) || {};
}

export function isCreated(c) {
  return !c.properties.isAttachedCompute;
}

export function clusterName(c) {
  const id = c.properties.resourceId || "";
  return id.split("/").pop() || "";
}
