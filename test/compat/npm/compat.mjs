// compat.mjs drives the official npm client @azure/arm-machinelearning against an mlfleet
// server: create an AKS compute from the workspace, get it, attach an existing managed
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

import { webcrypto } from "node:crypto";
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";

// The locked @azure/core-* packages want Node.js 20 and use the global Web Crypto object,
// which Node.js 18 (Debian 12's nodejs) has only in node:crypto.
globalThis.crypto ??= webcrypto;

function env(name, fallback) {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === "") {
    console.error(`compat.mjs: environment variable ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const url = env("MLFLEET_URL").replace(/\/+$/, "");
const token = env("MLFLEET_TOKEN");
const subscription = env("MLFLEET_SUBSCRIPTION");
const rg = env("MLFLEET_RG");
const ws = env("MLFLEET_WORKSPACE");
const location = env("MLFLEET_LOCATION");
const createName = env("MLFLEET_CREATE_NAME");
const attachName = env("MLFLEET_ATTACH_NAME");
const attachId = env("MLFLEET_ATTACH_ID");
const agentCount = Number(env("MLFLEET_AGENT_COUNT", "3"));

// The client asks a TokenCredential for a token; mlfleet's is static.
const credential = {
  getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600e3 }),
};

const client = new AzureMachineLearningWorkspaces(credential, subscription, {
  endpoint: url,
  // No retries: a failing call should show at once, not after the default backoff.
  retryOptions: { maxRetries: 0 },
});

const t0 = Date.now();

// Trace every exchange to stderr (secrets left out): what the client sent and which LRO
// headers the server answered with.
client.pipeline.addPolicy({
  name: "mlfleetTrace",
  async sendRequest(request, next) {
    const started = Date.now();
    const line = { t: started - t0, method: request.method, url: request.url };
    if (request.method === "PUT" && typeof request.body === "string") {
      line.requestBody = request.body;
    }
    try {
      const response = await next(request);
      line.status = response.status;
      line.ms = Date.now() - started;
      for (const h of ["azure-asyncoperation", "location", "retry-after", "x-ms-request-id", "content-type"]) {
        const v = response.headers.get(h);
        if (v !== undefined) line[h] = v;
      }
      if (!request.url.includes("/listKeys") && response.bodyAsText) {
        line.responseBody = response.bodyAsText.length > 2000 ? response.bodyAsText.slice(0, 2000) + "…" : response.bodyAsText;
      }
      console.error("trace " + JSON.stringify(line));
      return response;
    } catch (e) {
      line.error = String(e);
      if (e?.statusCode) line.status = e.statusCode;
      if (e?.response?.bodyAsText) line.responseBody = e.response.bodyAsText;
      console.error("trace " + JSON.stringify(line));
      throw e;
    }
  },
});

const lro = { updateIntervalInMs: 500 };

function print(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function errorOf(e) {
  return {
    name: e?.name,
    message: e?.message,
    statusCode: e?.statusCode,
    code: e?.code ?? e?.details?.error?.code,
  };
}

// step runs fn, prints {step, ...result} or {step, error} and stops the script on error.
async function step(name, fn) {
  let out;
  try {
    out = await fn();
  } catch (e) {
    print({ step: name, error: errorOf(e) });
    console.error(`compat.mjs: step ${name} failed: ${e?.name === "RestError" ? e.message : e?.stack ?? e}`);
    process.exit(1);
  }
  print({ step: name, ...out });
}

// expectError runs fn, which must fail: prints {step, error} (or {step, unexpected} when it
// succeeded).
async function expectError(name, fn) {
  try {
    const r = await fn();
    print({ step: name, unexpected: r ?? null });
  } catch (e) {
    print({ step: name, error: errorOf(e) });
  }
}

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
