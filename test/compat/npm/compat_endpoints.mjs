// compat_endpoints.mjs drives the official npm client @azure/arm-machinelearning (2.1.1,
// api-version 2022-10-01) against an mlfleet server for issue 17: modelVersions
// (createOrUpdate, get, list), onlineEndpoints (create LRO, get, list, listKeys,
// regenerateKeys LRO, getToken on a Key endpoint refused, an AMLToken endpoint's getToken,
// traffic by PUT, delete LRO) and onlineDeployments (create LRO to Succeeded, get, list,
// listSkus, update LRO (PATCH sku.capacity and tags; a sku tier refused), delete LRO).
//
// It is run by test/compat/npm_endpoints_test.go, which prepares the workspace, an AKS
// compute and the uploaded model blob, and asserts on what this script prints: one JSON
// object per line, {"step": "...", ...}, as compat.mjs does (same conventions, same trace
// of every HTTP exchange on stderr).
//
// Environment: MLFLEET_URL, MLFLEET_TOKEN, MLFLEET_SUBSCRIPTION, MLFLEET_RG,
// MLFLEET_WORKSPACE, MLFLEET_LOCATION as for compat.mjs, and
//   MLFLEET_COMPUTE_ID     id of the AKS compute to deploy to
//   MLFLEET_MODEL_URI      mlfleet://blobs/... uri of the uploaded model file
//   MLFLEET_CODE_URI       mlfleet://blobs/... uri of the uploaded code (tar with score.py)

import { env, token, subscription, rg, ws, location, client, lro, t0, print, step, expectError } from "./harness.mjs";

const computeId = env("MLFLEET_COMPUTE_ID");
const modelUri = env("MLFLEET_MODEL_URI");
const codeUri = env("MLFLEET_CODE_URI");

const models = client.modelVersions;
const endpoints = client.onlineEndpoints;
const deployments = client.onlineDeployments;

await step("model-create", async () => {
  const v = await models.createOrUpdate(rg, ws, "npmmodel", "1", { properties: { modelUri, modelType: "custom_model", description: "from npm" } });
  return { id: v.id, name: v.name, modelUri: v.properties?.modelUri, modelType: v.properties?.modelType };
});
await step("model-get", async () => {
  const v = await models.get(rg, ws, "npmmodel", "1");
  return { id: v.id, description: v.properties?.description };
});
await step("model-list", async () => {
  const names = [];
  for await (const v of models.list(rg, ws, "npmmodel")) names.push(v.name);
  return { names };
});
await expectError("model-create-bad-uri", () =>
  models.createOrUpdate(rg, ws, "npmmodel", "2", { properties: { modelUri: "https://example.com/model.pkl" } }));

const epBody = { location, properties: { authMode: "Key", compute: computeId } };
await step("endpoint-create", async () => {
  const e = await endpoints.beginCreateOrUpdateAndWait(rg, ws, "npmep", epBody, lro);
  return { id: e.id, provisioningState: e.properties?.provisioningState, authMode: e.properties?.authMode };
});
await step("endpoint-keys", async () => {
  const k = await endpoints.listKeys(rg, ws, "npmep");
  return { primaryLength: k.primaryKey?.length ?? 0, secondaryLength: k.secondaryKey?.length ?? 0, primary: k.primaryKey };
});
await step("endpoint-regenerate", async () => {
  await endpoints.beginRegenerateKeysAndWait(rg, ws, "npmep", { keyType: "Secondary" }, lro);
  const k = await endpoints.listKeys(rg, ws, "npmep");
  return { primary: k.primaryKey, secondaryLength: k.secondaryKey?.length ?? 0 };
});
await expectError("endpoint-token-on-key", () => endpoints.getToken(rg, ws, "npmep"));
await step("token-endpoint-create", async () => {
  const e = await endpoints.beginCreateOrUpdateAndWait(rg, ws, "npmtoken", { location, properties: { authMode: "AMLToken" } }, lro);
  return { provisioningState: e.properties?.provisioningState };
});
await step("token", async () => {
  const t = await endpoints.getToken(rg, ws, "npmtoken");
  return { tokenType: t.tokenType, parts: t.accessToken?.split(".").length ?? 0, expiry: t.expiryTimeUtc };
});

await step("code-create", async () => {
  const v = await client.codeVersions.createOrUpdate(rg, ws, "npmcode", "1", { properties: { codeUri } });
  return { id: v.id, codeUri: v.properties?.codeUri };
});
const codeId = `/subscriptions/${subscription}/resourceGroups/${rg}/providers/Microsoft.MachineLearningServices/workspaces/${ws}/codes/npmcode/versions/1`;
const modelId = `/subscriptions/${subscription}/resourceGroups/${rg}/providers/Microsoft.MachineLearningServices/workspaces/${ws}/models/npmmodel/versions/1`;
await step("deployment-create", async () => {
  const d = await deployments.beginCreateOrUpdateAndWait(rg, ws, "npmep", "blue", {
    location,
    sku: { name: "Default", capacity: 1 },
    properties: {
      endpointComputeType: "Kubernetes", model: modelId, instanceType: "smallinstancetype", requestSettings: { requestTimeout: "PT3S" },
      codeConfiguration: { codeId, scoringScript: "score.py" },
    },
  }, lro);
  return { id: d.id, provisioningState: d.properties?.provisioningState, endpointComputeType: d.properties?.endpointComputeType, capacity: d.sku?.capacity };
});
await step("deployment-get", async () => {
  const d = await deployments.get(rg, ws, "npmep", "blue");
  return { provisioningState: d.properties?.provisioningState, instanceType: d.properties?.instanceType, requestTimeout: d.properties?.requestSettings?.requestTimeout };
});
await step("deployment-list", async () => {
  const names = [];
  for await (const d of deployments.list(rg, ws, "npmep")) names.push(d.name);
  return { names };
});
await step("deployment-skus", async () => {
  const skus = [];
  for await (const s of deployments.listSkus(rg, ws, "npmep", "blue")) skus.push(s);
  return { count: skus.length, maximum: skus[0]?.capacity?.maximum };
});
await step("deployment-update", async () => {
  await deployments.beginUpdateAndWait(rg, ws, "npmep", "blue", { sku: { capacity: 2 }, tags: { team: "ml" } }, lro);
  const d = await deployments.get(rg, ws, "npmep", "blue");
  return { provisioningState: d.properties?.provisioningState, capacity: d.sku?.capacity, tags: d.tags, instanceType: d.properties?.instanceType };
});
await expectError("deployment-update-tier", () =>
  deployments.beginUpdateAndWait(rg, ws, "npmep", "blue", { sku: { capacity: 1, tier: "Premium" } }, lro));
await step("traffic", async () => {
  const e = await endpoints.beginCreateOrUpdateAndWait(rg, ws, "npmep", { ...epBody, properties: { ...epBody.properties, traffic: { blue: 100 } } }, lro);
  return { traffic: e.properties?.traffic, scoringUri: e.properties?.scoringUri };
});
await step("endpoint-list", async () => {
  const names = [];
  for await (const e of endpoints.list(rg, ws)) names.push(e.name);
  return { names: names.sort() };
});
await step("endpoint-delete", async () => {
  await endpoints.beginDeleteAndWait(rg, ws, "npmep", lro);
  await endpoints.beginDeleteAndWait(rg, ws, "npmtoken", lro);
  return {};
});
await expectError("endpoint-get-deleted", () => endpoints.get(rg, ws, "npmep"));
print({ step: "done", seconds: (Date.now() - t0) / 1000 });
