// The ARM REST client of mlfleet Studio: api-version per resource provider, the bearer
// token, ARM error bodies, list paging (nextLink) and long-running operations
// (Azure-AsyncOperation).

export const versions = {
  resources: "2022-09-01",
  locations: "2022-12-01",
  ml: "2024-04-01",
  containerService: "2025-02-01",
  orchestrators: "2019-08-01",
  compute: "2024-07-01",
};

// createOnly are the headers of a PUT that creates or attaches: it must not change a
// resource that exists (the server answers 409 Conflict, saying how to change it instead).
export const createOnly = { "If-None-Match": "*" };

// ApiError is an answer of the API that is not a success, or a request that got no answer.
// code, message, target and details come from the ARM error body; raw is the body as sent.
export class ApiError extends Error {
  constructor({ status, code, message, target, details, additionalInfo, raw, method, url, requestId }) {
    super(message);
    this.status = status;
    this.code = code;
    this.target = target || "";
    this.details = details || [];
    this.additionalInfo = additionalInfo || [];
    this.raw = raw || "";
    this.method = method;
    this.url = url;
    this.requestId = requestId || "";
  }
}

function parseError(status, raw, method, url, requestId) {
  let body = null;
  try {
    body = JSON.parse(raw);
  } catch {
    // not JSON: shown as it came
  }
  const e = body && body.error;
  if (e && typeof e === "object") {
    return new ApiError({
      status, code: e.code || "", message: e.message || "", target: e.target,
      details: Array.isArray(e.details) ? e.details : [],
      additionalInfo: Array.isArray(e.additionalInfo) ? e.additionalInfo : [], raw, method, url, requestId,
    });
  }
  return new ApiError({ status, code: "HTTP " + status, message: raw.trim() || "(empty answer)", raw, method, url, requestId });
}

export class Client {
  // token is the bearer token; onUnauthorized is called when the API answers 401.
  constructor(token, onUnauthorized) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
  }

  // request calls the API. path is relative to the server (or an absolute URL from the
  // API itself, such as a nextLink); apiVersion is added unless the URL has one; headers
  // are sent with the others (e.g. createOnly).
  async request(method, path, { apiVersion, query, body, headers: extra } = {}) {
    const url = new URL(path, window.location.origin);
    if (apiVersion && !url.searchParams.has("api-version")) {
      url.searchParams.set("api-version", apiVersion);
    }
    for (const [k, v] of Object.entries(query || {})) {
      url.searchParams.set(k, v);
    }
    const headers = { ...extra, Authorization: "Bearer " + this.token, Accept: "application/json" };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch (err) {
      throw new ApiError({ status: 0, code: "NetworkError", message: `The server could not be reached: ${err.message}. Is mlfleet serve running at ${window.location.origin}?`, method, url: url.href });
    }
    const raw = await resp.text();
    const requestId = resp.headers.get("x-ms-request-id");
    if (!resp.ok) {
      const err = parseError(resp.status, raw, method, url.pathname, requestId);
      if (resp.status === 401 && this.onUnauthorized) {
        this.onUnauthorized(err);
      }
      throw err;
    }
    let data = null;
    if (raw.trim() !== "") {
      try {
        data = JSON.parse(raw);
      } catch {
        throw new ApiError({ status: resp.status, code: "InvalidResponse", message: "The answer is not JSON: " + raw.slice(0, 500), raw, method, url: url.pathname, requestId });
      }
    }
    return {
      status: resp.status,
      data,
      asyncOperation: resp.headers.get("Azure-AsyncOperation"),
      retryAfter: Number(resp.headers.get("Retry-After")) || 1,
      warnings: warningsOf(resp.headers.get("Warning")),
    };
  }

  async get(path, apiVersion) {
    return (await this.request("GET", path, { apiVersion })).data;
  }

  // list returns every item of a list, following nextLink.
  async list(path, apiVersion) {
    const items = [];
    let next = path;
    for (let i = 0; next && i < 1000; i++) {
      const page = await this.get(next, apiVersion);
      items.push(...((page && page.value) || []));
      next = page && page.nextLink;
    }
    return items;
  }

  // operation returns the status of a long-running operation: {status, error, ...}.
  async operation(url) {
    return (await this.request("GET", url)).data;
  }
}

// warningsOf splits a Warning header (299 mlfleet "text", ...) into its texts.
function warningsOf(header) {
  if (!header) {
    return [];
  }
  const out = [];
  const re = /\d{3} \S+ "([^"]*)"/g;
  let m;
  while ((m = re.exec(header)) !== null) {
    out.push(m[1]);
  }
  return out;
}

// Paths of the resources the page uses.
export const paths = {
  subscriptions: () => "/subscriptions",
  groups: (sub) => `/subscriptions/${enc(sub)}/resourceGroups`,
  locations: (sub) => `/subscriptions/${enc(sub)}/locations`,
  workspaces: (sub, rg) => `/subscriptions/${enc(sub)}/resourceGroups/${enc(rg)}/providers/Microsoft.MachineLearningServices/workspaces`,
  workspace: (c) => `${paths.workspaces(c.sub, c.rg)}/${enc(c.ws)}`,
  computes: (c) => `${paths.workspace(c)}/computes`,
  compute: (c, name) => `${paths.computes(c)}/${enc(name)}`,
  endpoints: (c) => `${paths.workspace(c)}/onlineEndpoints`,
  endpoint: (c, name) => `${paths.endpoints(c)}/${enc(name)}`,
  deployments: (c, ep) => `${paths.endpoint(c, ep)}/deployments`,
  deployment: (c, ep, name) => `${paths.deployments(c, ep)}/${enc(name)}`,
  checkName: (c) => `${paths.workspace(c)}/checkComputeNameAvailability`,
  managedClusters: (sub) => `/subscriptions/${enc(sub)}/providers/Microsoft.ContainerService/managedClusters`,
  orchestrators: (sub, loc) => `/subscriptions/${enc(sub)}/providers/Microsoft.ContainerService/locations/${enc(loc)}/orchestrators`,
  vmSizes: (sub, loc) => `/subscriptions/${enc(sub)}/providers/Microsoft.Compute/locations/${enc(loc)}/vmSizes`,
};

function enc(s) {
  return encodeURIComponent(s);
}
