// mlfleet Studio: Endpoints → Online endpoints of a workspace: the list, an endpoint's
// details (deployments, traffic), its keys on demand, a test box and each deployment's
// logs. The page's Content-Security-Policy (connect-src 'self') keeps the browser from
// calling a scoring URI itself, so the test box goes through the API's
// POST …/onlineEndpoints/{ep}/score, which forwards the request with the endpoint's key.

import { paths, versions } from "./api.js";
import { append, button, clear, code, errorBox, field, h, plural, select, showResult } from "./dom.js";
import { state } from "./app.js";

const BUSY = new Set(["Creating", "Updating", "Deleting"]);
const DEFAULT_TAIL = 100;

// renderEndpoints shows the list, or the endpoint named by arg.
export function renderEndpoints(main, arg) {
  if (arg) {
    renderEndpoint(main, arg);
  } else {
    renderList(main);
  }
}

function stateBadge(ps) {
  const s = ps || "Unknown";
  return h("span", { class: `badge ${BUSY.has(s) ? "badge-busy" : "badge-" + s.toLowerCase()}` }, s);
}

function trafficText(traffic) {
  const parts = Object.entries(traffic || {}).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return parts.length ? parts.map(([d, v]) => `${d} ${v}%`).join(", ") : "None";
}

function grid(id, caption, headers, tbody) {
  return h("div", { class: "table-wrap" }, h("table", { class: "grid cards", id },
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
    tbody));
}

// ---------- list ----------

function renderList(main) {
  const ws = state.workspace;
  const tbody = h("tbody", { id: "endpoints-body" }, h("tr", {}, h("td", { colspan: 5, class: "empty" }, "Loading…")));
  const errArea = h("div", { id: "endpoints-error" });
  let timer = 0;
  const load = async () => {
    clearTimeout(timer);
    try {
      const list = await state.client.list(paths.endpoints(state.ctx), versions.ml);
      clear(errArea);
      clear(tbody);
      if (list.length === 0) {
        tbody.append(h("tr", {}, h("td", { colspan: 5, class: "empty" },
          "No online endpoints yet. Create one with ", code("mlfleet ml online-endpoint create --file endpoint.yml"), ".")));
      }
      for (const ep of list.sort((a, b) => a.name.localeCompare(b.name))) {
        const p = ep.properties || {};
        tbody.append(h("tr", { "data-name": ep.name },
          h("td", { "data-label": "Name" }, h("a", { href: `#/endpoints/${encodeURIComponent(ep.name)}`, class: "name" }, ep.name)),
          h("td", { "data-label": "Auth mode" }, p.authMode || "—"),
          h("td", { "data-label": "State" }, stateBadge(p.provisioningState)),
          h("td", { "data-label": "Scoring URI" }, p.scoringUri ? code(p.scoringUri) : h("span", { class: "muted" }, (p.mlfleet && p.mlfleet.message) || "—")),
          h("td", { "data-label": "Traffic" }, trafficText(p.traffic))));
      }
      // While an endpoint is being created, updated or deleted, follow it every 2 s for as
      // long as the list is on screen.
      if (list.some((ep) => BUSY.has((ep.properties || {}).provisioningState))) {
        timer = setTimeout(() => {
          if (tbody.isConnected) {
            load();
          }
        }, 2000);
      }
    } catch (e) {
      clear(tbody);
      showResult(errArea, errorBox(e, "The online endpoints could not be listed"), false);
    }
  };
  main.append(
    h("div", { class: "page-head" },
      h("h1", {}, "Online endpoints"),
      h("p", { class: "lead" }, `Endpoints of workspace ${ws.name} that serve models deployed to its inference clusters. Open one to see its deployments and keys, test it and read its logs.`)),
    h("div", { class: "toolbar", role: "toolbar", "aria-label": "Online endpoints" },
      button("Refresh", { id: "endpoints-refresh", onClick: () => load() })),
    errArea,
    grid("endpoints", `Online endpoints of workspace ${ws.name}`, ["Name", "Auth mode", "State", "Scoring URI", "Traffic"], tbody));
  load();
}

// ---------- details ----------

function renderEndpoint(main, name) {
  const box = h("div", { id: "endpoint" }, h("p", { class: "muted" }, "Loading…"));
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/endpoints" }, "Online endpoints"), " › ", name),
    h("h1", {}, name),
    box);
  loadEndpoint(box, name);
}

async function loadEndpoint(box, name) {
  let ep;
  let deps;
  try {
    [ep, deps] = await Promise.all([
      state.client.get(paths.endpoint(state.ctx, name), versions.ml),
      state.client.list(paths.deployments(state.ctx, name), versions.ml),
    ]);
  } catch (e) {
    showResult(box, errorBox(e, `Online endpoint ${name} could not be read`), false);
    return;
  }
  const p = ep.properties || {};
  clear(box);
  box.append(h("div", { class: "toolbar" }, button("Refresh", { id: "endpoint-refresh", onClick: () => loadEndpoint(box, name) })));
  const dl = h("dl", { class: "props" });
  const row = (k, v) => dl.append(h("dt", {}, k), h("dd", {}, v === undefined || v === null || v === "" ? "—" : v));
  row("State", stateBadge(p.provisioningState));
  row("Auth mode", p.authMode);
  row("Scoring URI", p.scoringUri ? code(p.scoringUri) : (p.mlfleet && p.mlfleet.message) || null);
  row("Swagger URI", p.swaggerUri ? code(p.swaggerUri) : null);
  row("Compute", p.compute ? code(p.compute) : null);
  row("Description", p.description);
  box.append(dl);

  box.append(h("h2", {}, "Traffic"));
  const traffic = Object.entries(p.traffic || {}).sort((a, b) => a[0].localeCompare(b[0]));
  if (traffic.length === 0) {
    box.append(h("p", { id: "traffic-empty" }, "No traffic is routed yet: requests must name a deployment (azureml-model-deployment)."));
  } else {
    box.append(grid("traffic", `Traffic of ${name}`, ["Deployment", "Share"], h("tbody", {},
      traffic.map(([d, v]) => h("tr", { "data-name": d },
        h("td", { "data-label": "Deployment" }, d),
        h("td", { "data-label": "Share" }, h("meter", { min: 0, max: 100, value: v, "aria-label": `${d} share` }), ` ${v}%`))))));
  }

  box.append(h("h2", {}, plural(deps.length, "deployment")));
  const dbody = h("tbody");
  for (const d of deps.sort((a, b) => a.name.localeCompare(b.name))) {
    dbody.append(deploymentRow(name, d));
  }
  if (deps.length === 0) {
    dbody.append(h("tr", {}, h("td", { colspan: 6, class: "empty" },
      "No deployments yet. Create one with ", code(`mlfleet ml online-deployment create -e ${name} --file blue.yml`), ".")));
  }
  box.append(grid("deployments", `Deployments of ${name}`, ["Name", "State", "Instance type", "Instances", "Ready", "Logs"], dbody));

  box.append(keysSection(name, p.authMode), testSection(name, deps));
}

function instanceCount(d) {
  const p = d.properties || {};
  if (d.sku && typeof d.sku.capacity === "number") {
    return d.sku.capacity;
  }
  if (p.scaleSettings && typeof p.scaleSettings.instanceCount === "number") {
    return p.scaleSettings.instanceCount;
  }
  return p.mlfleet ? p.mlfleet.instanceCount : null;
}

function deploymentRow(ep, d) {
  const p = d.properties || {};
  const m = p.mlfleet || {};
  const st = h("div", { class: "state" }, stateBadge(p.provisioningState));
  if (m.message) {
    st.append(h("span", { class: p.provisioningState === "Failed" ? "state-error" : "muted small" }, m.message));
  }
  const n = instanceCount(d);
  return h("tr", { "data-name": d.name },
    h("td", { "data-label": "Name" }, h("strong", {}, d.name)),
    h("td", { "data-label": "State" }, st),
    h("td", { "data-label": "Instance type" }, p.instanceType || "—"),
    h("td", { "data-label": "Instances" }, n === null || n === undefined ? "—" : String(n)),
    h("td", { "data-label": "Ready" }, n ? `${m.readyInstances || 0} of ${n}` : String(m.readyInstances || 0)),
    h("td", { "data-label": "Logs" }, button("Logs", { "aria-label": `Logs of ${d.name}`, "data-key": `${d.name}:logs`, onClick: () => openLogs(ep, d.name) })));
}

// ---------- keys ----------

// keysSection keeps the keys out of the page until asked: listKeys (or token) is only
// called on "Show keys", and "Hide keys" drops them from the DOM.
function keysSection(name, authMode) {
  const out = h("div", { id: "keys-out", "aria-live": "polite" });
  const token = authMode === "AMLToken";
  const label = token ? "Get a token" : "Show keys";
  const toggle = button(label, { id: "keys-button", "aria-expanded": "false", "aria-controls": "keys-out" });
  toggle.addEventListener("click", async () => {
    if (toggle.getAttribute("aria-expanded") === "true") {
      clear(out);
      toggle.textContent = label;
      toggle.setAttribute("aria-expanded", "false");
      return;
    }
    toggle.disabled = true;
    try {
      const action = token ? "/token" : "/listKeys";
      const data = (await state.client.request("POST", paths.endpoint(state.ctx, name) + action, { apiVersion: versions.ml })).data || {};
      const dl = h("dl", { class: "props" });
      const pairs = token
        ? [["Token", data.accessToken], ["Expires", data.expiryTimeUtc ? new Date(data.expiryTimeUtc * 1000).toLocaleString() : ""]]
        : [["Primary key", data.primaryKey], ["Secondary key", data.secondaryKey]];
      for (const [k, v] of pairs) {
        dl.append(h("dt", {}, k), h("dd", {}, code(v || "—")));
      }
      clear(out).append(dl);
      toggle.textContent = token ? "Hide token" : "Hide keys";
      toggle.setAttribute("aria-expanded", "true");
    } catch (e) {
      showResult(out, errorBox(e, token ? "The token could not be obtained" : "The keys could not be listed"));
    } finally {
      toggle.disabled = false;
    }
  });
  return h("section", { "aria-labelledby": "keys-title" },
    h("h2", { id: "keys-title" }, token ? "Token" : "Keys"),
    h("p", { class: "hint" }, token
      ? "Requests carry an AMLToken as a bearer token; tokens expire."
      : "Requests carry the primary or secondary key as a bearer token. The keys are shown only when asked."),
    toggle, out);
}

// ---------- test ----------

function testSection(name, deps) {
  const input = h("textarea", { id: "score-request", rows: 6, spellcheck: "false", class: "mono" });
  input.value = '{"data": [[1, 2, 3]]}';
  const pin = select("score-deployment", [{ value: "", label: "By traffic" }, ...deps.map((d) => ({ value: d.name, label: d.name }))], "");
  const out = h("div", { id: "score-out", "aria-live": "polite" });
  const send = button("Send", { class: "primary", id: "score-send" });
  const form = h("form", { id: "score-form", novalidate: true },
    field("Request (JSON)", input, "Sent to the scoring URI through the API with the endpoint's primary key or a token, as it is."),
    field("Deployment", pin, "By traffic follows the endpoint's traffic split; a name pins the request to that deployment."),
    h("div", { class: "actions" }, send));
  form.addEventListener("submit", (e) => e.preventDefault());
  send.addEventListener("click", async () => {
    try {
      JSON.parse(input.value);
    } catch (e) {
      showResult(out, errorBox({ code: "InvalidJSON", message: `The request is not JSON: ${e.message}` }, "Fix the request"));
      return;
    }
    send.disabled = true;
    clear(out).append(h("p", { class: "muted" }, "Sending…"));
    try {
      const url = paths.endpoint(state.ctx, name) + "/score";
      const query = pin.value ? { deployment: pin.value } : undefined;
      const r = (await state.client.request("POST", url, { apiVersion: versions.ml, query, body: JSON.parse(input.value) })).data;
      let text = r.body;
      try {
        text = JSON.stringify(JSON.parse(r.body), null, 2);
      } catch {
        // not JSON: shown as it came
      }
      const ok = r.statusCode >= 200 && r.statusCode < 300;
      const head = [`HTTP ${r.statusCode}`];
      if (r.deployment) {
        head.push(`answered by ${r.deployment}`);
      }
      head.push(`${r.durationMs} ms`);
      const res = h("div", { class: ok ? "score-ok" : "error-box", tabindex: "-1", role: ok ? "status" : "alert" },
        h("p", { id: "score-status", class: ok ? "" : "error-title" }, head.join(" · ")),
        h("pre", { id: "score-body" }, text || "(empty answer)"));
      if (r.truncated) {
        res.append(h("p", { class: "hint" }, "The answer was cut off at 1 MiB."));
      }
      showResult(out, res);
    } catch (e) {
      showResult(out, errorBox(e, "The test request failed"));
    } finally {
      send.disabled = false;
    }
  });
  return h("section", { "aria-labelledby": "score-title" }, h("h2", { id: "score-title" }, "Test"), form, out);
}

// ---------- logs ----------

function openLogs(ep, dep) {
  const d = document.getElementById("dialog");
  clear(d);
  const tail = h("input", { id: "logs-tail", type: "number", min: 1, max: 10000, value: String(DEFAULT_TAIL) });
  const kind = select("logs-container", [{ value: "InferenceServer", label: "Inference server" }, { value: "StorageInitializer", label: "Storage initializer" }], "InferenceServer");
  const out = h("div", { id: "logs-out", "aria-live": "polite" });
  const load = async () => {
    clear(out).append(h("p", { class: "muted" }, "Loading…"));
    const n = Number(tail.value);
    const body = { containerType: kind.value };
    if (Number.isInteger(n) && n > 0) {
      body.tail = n;
    }
    try {
      const r = (await state.client.request("POST", paths.deployment(state.ctx, ep, dep) + "/getLogs", { apiVersion: versions.ml, body })).data || {};
      clear(out).append(h("pre", { id: "logs-text", class: "logs", tabindex: "0" }, r.content || "(no output yet)"));
    } catch (e) {
      showResult(out, errorBox(e, `The logs of ${dep} could not be read`));
    }
  };
  append(d, [
    h("h2", { id: "dialog-title" }, `Logs of ${dep}`),
    h("div", { class: "toolbar" }, field("Lines", tail), field("Container", kind),
      button("Reload", { id: "logs-reload", onClick: load })),
    out,
    h("div", { class: "actions" }, button("Close", { id: "logs-close", onClick: () => d.close() })),
  ]);
  d.classList.add("wide");
  d.addEventListener("close", () => d.classList.remove("wide"), { once: true });
  d.showModal();
  tail.focus();
  load();
}
