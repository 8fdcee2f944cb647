// harness.mjs is what compat.mjs and compat_endpoints.mjs share: the environment, the
// official client with a static token and no retries, a trace of every HTTP exchange on
// stderr (secrets left out), and the step/expectError printing conventions the Go tests
// assert on (one JSON object per line on stdout).
import { webcrypto } from "node:crypto";
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";

// The locked @azure/core-* packages want Node.js 20 and use the global Web Crypto object,
// which Node.js 18 (Debian 12's nodejs) has only in node:crypto.
globalThis.crypto ??= webcrypto;

export function env(name, fallback) {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === "") {
    console.error(`compat: environment variable ${name} is not set`);
    process.exit(2);
  }
  return v;
}

export const url = env("MLFLEET_URL").replace(/\/+$/, "");
export const token = env("MLFLEET_TOKEN");
export const subscription = env("MLFLEET_SUBSCRIPTION");
export const rg = env("MLFLEET_RG");
export const ws = env("MLFLEET_WORKSPACE");
export const location = env("MLFLEET_LOCATION");

const credential = {
  getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600e3 }),
};

export const client = new AzureMachineLearningWorkspaces(credential, subscription, {
  endpoint: url,
  // No retries: a failing call should show at once, not after the default backoff.
  retryOptions: { maxRetries: 0 },
});

export const t0 = Date.now();

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

export const lro = { updateIntervalInMs: 500 };

export function print(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

export function errorOf(e) {
  return {
    name: e?.name,
    message: e?.message,
    statusCode: e?.statusCode,
    code: e?.code ?? e?.details?.error?.code,
  };
}

// step runs fn, prints {step, ...result} or {step, error} and stops the script on error.
export async function step(name, fn) {
  let out;
  try {
    out = await fn();
  } catch (e) {
    print({ step: name, error: errorOf(e) });
    console.error(`compat: step ${name} failed: ${e?.name === "RestError" ? e.message : e?.stack ?? e}`);
    process.exit(1);
  }
  print({ step: name, ...out });
}

// expectError runs fn, which must fail: prints {step, error} (or {step, unexpected} when it
// succeeded).
export async function expectError(name, fn) {
  try {
    const r = await fn();
    print({ step: name, unexpected: r ?? null });
  } catch (e) {
    print({ step: name, error: errorOf(e) });
  }
}
