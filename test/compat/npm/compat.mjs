// compat.mjs drives the official npm client @azure/arm-machinelearning against an mlfleet
// server: create an AKS compute from the workspace, get it, try its scaleSettings update
// (refused), PUT it back as read, attach an existing managed
// cluster as a second compute, list (paged), listKeys, listNodes, then delete both
// (Detach for the attached one, Delete for the created one) and check they are gone.
//
// It is run by test/compat/npm_test.go, which prepares the server side (resource group,
// workspace, the cluster to attach) and asserts on what this script prints: one JSON object
// per line on stdout, {"step": "...", ...}. A step that throws prints
// {"step": "...", "error": {...}} and the script exits 1. A trace of every HTTP exchange
// goes to stderr (the Go test logs it when it fails, or always with MLFLEET_NPM_TRACE=1).
//
// Environment:
//   MLFLEET_URL            server URL (https://127.0.0.1:PORT); its CA via NODE_EXTRA_CA_CERTS
//   MLFLEET_TOKEN          bearer token
//   MLFLEET_SUBSCRIPTION   subscription id
//   MLFLEET_RG             resource group of the workspace
//   MLFLEET_WORKSPACE      workspace name
//   MLFLEET_LOCATION       workspace location
//   MLFLEET_CREATE_NAME    compute to create from the workspace
//   MLFLEET_ATTACH_NAME    compute to attach
//   MLFLEET_ATTACH_ID      resource id of the managed cluster to attach
//   MLFLEET_AGENT_COUNT    agentCount of the created compute (default 3)

import { env, token, subscription, rg, ws, location, client, lro, print, step, expectError } from "./harness.mjs";

const createName = env("MLFLEET_CREATE_NAME");
const attachName = env("MLFLEET_ATTACH_NAME");
const attachId = env("MLFLEET_ATTACH_ID");
const agentCount = Number(env("MLFLEET_AGENT_COUNT", "3"));

// summary keeps what the Go test asserts on, plus the whole resource as the client
// deserialized it (so unknown properties can be seen).
function summary(c) {
  return {
    id: c?.id,
    name: c?.name,
    type: c?.type,
    location: c?.location,
    computeType: c?.properties?.computeType,
    provisioningState: c?.properties?.provisioningState,
    isAttachedCompute: c?.properties?.isAttachedCompute,
    resourceId: c?.properties?.resourceId ?? null,
    agentCount: c?.properties?.properties?.agentCount,
    agentVmSize: c?.properties?.properties?.agentVmSize,
    clusterPurpose: c?.properties?.properties?.clusterPurpose,
    createdOnIsDate: c?.properties?.createdOn instanceof Date && !isNaN(c.properties.createdOn),
    resource: c,
  };
}

const computes = client.computeOperations;

await step("create", async () => {
  const c = await computes.beginCreateOrUpdateAndWait(rg, ws, createName, {
    location,
    properties: { computeType: "AKS", properties: { agentCount } },
  }, lro);
  return summary(c);
});

await step("get-created", async () => summary(await computes.get(rg, ws, createName)));

// Compute_Update (PATCH, ClusterUpdateParameters) carries only AmlCompute's scaleSettings,
// which an AKS compute refuses; a read-modify-write PUT of the compute as the client
// models it (every key it knows) passes the server's unknown-key check.
await expectError("update-scalesettings", () =>
  computes.beginUpdateAndWait(rg, ws, createName, { properties: { scaleSettings: { maxNodeCount: 2, minNodeCount: 0 } } }, lro));
await step("put-as-read", async () => {
  const c = await computes.get(rg, ws, createName);
  c.properties.description = "as read";
  return summary(await computes.beginCreateOrUpdateAndWait(rg, ws, createName, c, lro));
});

await step("attach", async () => {
  const c = await computes.beginCreateOrUpdateAndWait(rg, ws, attachName, {
    location,
    properties: { computeType: "AKS", resourceId: attachId },
  }, lro);
  return summary(c);
});

await step("get-attached", async () => summary(await computes.get(rg, ws, attachName)));

await step("list", async () => {
  const names = [];
  let pages = 0;
  for await (const page of computes.list(rg, ws).byPage()) {
    pages++;
    for (const c of page) names.push(c.name);
  }
  // The plain async iterator walks the same pages.
  const iterated = [];
  for await (const c of computes.list(rg, ws)) iterated.push(c.name);
  return { pages, names, iterated };
});

for (const [label, name] of [["created", createName], ["attached", attachName]]) {
  await step(`keys-${label}`, async () => {
    const k = await computes.listKeys(rg, ws, name);
    return {
      computeType: k.computeType,
      userKubeConfig: k.userKubeConfig ?? null,
      adminKubeConfig: k.adminKubeConfig ?? null,
      imagePullSecretName: k.imagePullSecretName ?? null,
    };
  });
  await step(`nodes-${label}`, async () => {
    const nodes = [];
    for await (const n of computes.listNodes(rg, ws, name)) nodes.push(n);
    return { count: nodes.length, nodes };
  });
}

await step("detach-attached", async () => {
  const r = await computes.beginDeleteAndWait(rg, ws, attachName, "Detach", lro);
  return { result: r ?? null };
});
await expectError("get-attached-after-detach", () => computes.get(rg, ws, attachName));

await step("delete-created", async () => {
  const r = await computes.beginDeleteAndWait(rg, ws, createName, "Delete", lro);
  return { result: r ?? null };
});
await expectError("get-created-after-delete", () => computes.get(rg, ws, createName));

await step("list-after-delete", async () => {
  const names = [];
  for await (const c of computes.list(rg, ws)) names.push(c.name);
  return { names };
});

print({ step: "done" });
