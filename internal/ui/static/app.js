// mlfleet Studio: Compute → Inference clusters of a workspace (list, create, attach,
// detach, delete, scale) and the Kubernetes versions of a location, over the ARM REST API.
// Everything is built with DOM calls and textContent: nothing the API returns is parsed as
// HTML.

import { ApiError, Client, createOnly, paths, versions } from "./api.js";
import { renderEndpoints } from "./endpoints.js";

// The rules of cluster purposes (SPEC S5), for the hints shown while typing; the server
// checks them again and its answer is what counts.
const PRODUCTION_MIN_VCPUS = 12;
const FASTPROD_MIN_NODES = 3;
const DEVTEST_RECOMMENDED_VCPUS = 2;
// The server's defaults for a compute created from the workspace (SPEC S1).
const DEFAULTS = { agentCount: 3, vmSize: "Standard_D3_v2", purpose: "FastProd", loadBalancer: "PublicIp" };
const PURPOSES = [
  { value: "FastProd", title: "Production (FastProd)", text: `At least ${PRODUCTION_MIN_VCPUS} vCPUs and ${FASTPROD_MIN_NODES} nodes; the inference front-end runs highly available.` },
  { value: "DenseProd", title: "Production (DenseProd)", text: `At least ${PRODUCTION_MIN_VCPUS} vCPUs; for many models on fewer nodes.` },
  { value: "DevTest", title: "Dev/test", text: `One front-end replica, no fault tolerance; ${DEVTEST_RECOMMENDED_VCPUS} vCPUs or more recommended.` },
];
const CONDITIONS = ["Reachable", "VersionSupported", "CapacitySufficient", "ComponentsReady"];
const BUSY_STATES = new Set(["Creating", "Updating", "Deleting"]);
const TOKEN_KEY = "mlfleet.token";
const CONTEXT_KEY = "mlfleet.context";

export const state = {
  client: null,
  ctx: { sub: "", rg: "", ws: "" },
  workspace: null,
  computes: [],
  listError: null,
  listLoaded: false,
  lastRefresh: 0, // when the list was last asked for, answered or not
  lastListed: 0, // when the list was last answered
  ops: new Map(), // lower-case compute name → running operation started here
  vmSizes: null,
  vmSizesLoading: null,
  locations: null,
  timer: 0,
};

// ---------- DOM helpers ----------

function $(id) {
  return document.getElementById(id);
}

// h builds an element: props are attributes, except class, text, and on<Event> handlers.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) {
      continue;
    }
    if (k === "class") {
      el.className = v;
    } else if (k === "text") {
      el.textContent = v;
    } else if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === "value") {
      el.value = v;
    } else if (k === "checked") {
      el.checked = true;
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) {
      continue;
    }
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

let uid = 0;
function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// field is a labelled control with an optional hint, wired with aria-describedby.
export function field(label, control, hint) {
  if (!control.id) {
    control.id = nextId("f");
  }
  const parts = [h("label", { for: control.id, text: label }), control];
  if (hint) {
    const hid = control.id + "-hint";
    const described = [control.getAttribute("aria-describedby"), hid].filter(Boolean).join(" ");
    control.setAttribute("aria-describedby", described);
    parts.push(h("p", { class: "hint", id: hid }, hint));
  }
  return h("div", { class: "field" }, parts);
}

export function select(id, options, value) {
  const s = h("select", { id });
  setOptions(s, options, value);
  return s;
}

function setOptions(sel, options, value) {
  clear(sel);
  for (const o of options) {
    const opt = typeof o === "string" ? { value: o, label: o } : o;
    sel.append(h("option", { value: opt.value, text: opt.label }));
  }
  if (value !== undefined && options.some((o) => (typeof o === "string" ? o : o.value) === value)) {
    sel.value = value;
  }
}

export function button(text, props) {
  return h("button", { type: "button", ...props }, text);
}

export function code(text) {
  return h("code", {}, text);
}

// markTouched records which controls the user changed: create and attach bodies carry only
// those, so that the server applies its own defaults to the rest (as azureml-core does).
function markTouched(...controls) {
  for (const c of controls) {
    const mark = () => {
      c.dataset.touched = "1";
    };
    c.addEventListener("input", mark);
    c.addEventListener("change", mark);
  }
}

function touched(c) {
  return c.dataset.touched === "1";
}

function fmtTime(d) {
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function fmtDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

// ---------- errors ----------

// errorBox shows an API error as it came (code, message, target, every detail) and the raw
// answer on demand.
export function errorBox(err, heading) {
  const box = h("div", { class: "error-box", role: "alert", tabindex: "-1" });
  const title = heading || (err.status ? `The request failed (HTTP ${err.status})` : "The request failed");
  box.append(h("p", { class: "error-title" }, title));
  const head = h("p", { class: "error-message" });
  if (err.code) {
    head.append(h("span", { class: "error-code" }, err.code), " ");
  }
  head.append(err.message || "");
  box.append(head);
  if (err.target) {
    box.append(h("p", { class: "error-meta" }, "Target: ", code(err.target)));
  }
  const details = err.details || [];
  if (details.length > 0) {
    box.append(h("p", { class: "error-sub" }, plural(details.length, "problem") + ":"));
    const ul = h("ul", { class: "error-details" });
    for (const d of details) {
      const li = h("li");
      if (d.code) {
        li.append(h("span", { class: "error-code" }, d.code), " ");
      }
      li.append(d.message || "");
      if (d.target) {
        li.append(h("span", { class: "error-target" }, " (", code(d.target), ")"));
      }
      ul.append(li);
    }
    box.append(ul);
  }
  const meta = [];
  if (err.status) {
    meta.push(`HTTP ${err.status}`);
  }
  if (err.method && err.url) {
    meta.push(`${err.method} ${err.url}`);
  }
  if (err.requestId) {
    meta.push(`request id ${err.requestId}`);
  }
  if (meta.length > 0) {
    box.append(h("p", { class: "error-meta" }, meta.join(" · ")));
  }
  if (err.raw) {
    let pretty = err.raw;
    try {
      pretty = JSON.stringify(JSON.parse(err.raw), null, 2);
    } catch {
      // shown as it came
    }
    box.append(h("details", {}, h("summary", {}, "Full response"), h("pre", {}, pretty)));
  }
  return box;
}

// asError turns the error of an operation status into an ApiError-shaped object.
export function operationError(e) {
  if (!e) {
    return { code: "", message: "The operation failed without an error message." };
  }
  return { code: e.code, message: e.message, target: e.target, details: e.details || [], raw: JSON.stringify({ error: e }) };
}

// showResult puts el in area and, unless told not to, moves the focus to it so that a
// keyboard or screen-reader user lands on the outcome.
export function showResult(area, el, focus = true) {
  clear(area).append(el);
  if (focus && el.getAttribute("tabindex") === "-1") {
    el.focus();
  }
}

// ---------- notices ----------

// notice shows what happened to an operation above the page, in the flow of the page (it
// never covers anything). There is one notice per key: an operation's notice is replaced
// as it runs and ends. Errors stay until dismissed; the others go after a few seconds.
function notice(key, kind, title, body) {
  const region = $("notices");
  let n = [...region.children].find((x) => x.dataset.notice === key);
  if (!n) {
    n = h("div", { "data-notice": key });
    region.prepend(n);
  }
  clearTimeout(Number(n.dataset.timer || 0));
  n.className = `notice notice-${kind}`;
  if (kind === "error") {
    n.setAttribute("role", "alert");
  } else {
    n.removeAttribute("role");
  }
  const close = button("Dismiss", { class: "quiet small", "aria-label": `Dismiss: ${title}`, onClick: () => n.remove() });
  clear(n);
  append(n, [h("div", { class: "notice-head" }, h("strong", {}, title), close), body || null]);
  if (kind === "success") {
    n.dataset.timer = String(setTimeout(() => n.remove(), 8000));
  }
  return n;
}

function warningList(warnings) {
  return warnings && warnings.length ? h("ul", { class: "warnings" }, warnings.map((w) => h("li", {}, w))) : null;
}

// ---------- sign-in and context ----------

function onUnauthorized(err) {
  signOut(err);
}

function signOut(err) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.client = null;
  state.computes = [];
  state.ops.clear();
  clear($("notices"));
  state.vmSizes = null;
  state.locations = null;
  clearTimeout(state.timer);
  document.body.classList.add("signed-out");
  $("context").hidden = true;
  $("nav").hidden = true;
  $("sign-out").hidden = true;
  renderSignIn(err);
}

function renderSignIn(err) {
  const main = clear($("main"));
  const token = h("input", { id: "token", type: "password", autocomplete: "off", spellcheck: "false", required: true });
  const result = h("div", { class: "result", id: "signin-result" });
  const submit = h("button", { type: "submit", class: "primary", id: "sign-in" }, "Sign in");
  const form = h("form", { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", tabindex: "-1" }, "Sign in to mlfleet Studio"),
    h("p", {}, "Paste an mlfleet access token. It is kept in this browser tab only (session storage) and sent as a bearer token to this server."),
    field("Access token", token, h("span", {}, "Get one with ", code("mlfleet account get-access-token --query accessToken -o tsv"), ".")),
    h("div", { class: "actions" }, submit),
    result);
  if (err) {
    result.append(errorBox(err, "The token was refused"));
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    clear(result).append(h("p", { class: "muted" }, "Signing in…"));
    try {
      await signIn(token.value.trim());
    } catch (e) {
      showResult(result, errorBox(e, e.status === 401 ? "The token was refused" : "Signing in failed"));
    } finally {
      submit.disabled = false;
    }
  });
  main.append(form);
  token.focus();
}

async function signIn(token) {
  const client = new Client(token, null);
  const subs = await client.list(paths.subscriptions(), versions.resources);
  sessionStorage.setItem(TOKEN_KEY, token);
  client.onUnauthorized = onUnauthorized;
  state.client = client;
  document.body.classList.remove("signed-out");
  $("context").hidden = false;
  $("nav").hidden = false;
  $("sign-out").hidden = false;
  let saved = {};
  try {
    saved = JSON.parse(sessionStorage.getItem(CONTEXT_KEY) || "{}");
  } catch {
    saved = {};
  }
  setOptions($("ctx-sub"), subs.map((s) => ({ value: s.subscriptionId, label: s.displayName || s.subscriptionId })), saved.sub);
  state.ctx = { sub: $("ctx-sub").value, rg: saved.rg || "", ws: saved.ws || "" };
  $("ctx-sub").title = state.ctx.sub;
  if (!location.hash || location.hash === "#" || location.hash.startsWith("#/signin")) {
    history.replaceState(null, "", "#/clusters");
  }
  await loadGroups();
}

function saveContext() {
  sessionStorage.setItem(CONTEXT_KEY, JSON.stringify(state.ctx));
}

async function loadGroups() {
  const sel = $("ctx-rg");
  setOptions(sel, [{ value: "", label: "Loading…" }]);
  state.vmSizes = null;
  state.locations = null;
  try {
    const groups = await state.client.list(paths.groups(state.ctx.sub), versions.resources);
    const names = groups.map((g) => g.name).sort((a, b) => a.localeCompare(b));
    setOptions(sel, names.length ? names : [{ value: "", label: "(no resource groups)" }], state.ctx.rg);
    state.ctx.rg = sel.value;
  } catch (e) {
    setOptions(sel, [{ value: "", label: "(error)" }]);
    state.ctx.rg = "";
    renderMainError(e, "The resource groups could not be listed");
    return;
  }
  await loadWorkspaces();
}

async function loadWorkspaces() {
  const sel = $("ctx-ws");
  state.workspace = null;
  state.computes = [];
  state.listLoaded = false;
  state.listError = null;
  state.lastListed = 0;
  if (!state.ctx.rg) {
    setOptions(sel, [{ value: "", label: "(none)" }]);
    state.ctx.ws = "";
    saveContext();
    render();
    return;
  }
  setOptions(sel, [{ value: "", label: "Loading…" }]);
  try {
    const list = await state.client.list(paths.workspaces(state.ctx.sub, state.ctx.rg), versions.ml);
    const names = list.map((w) => w.name).sort((a, b) => a.localeCompare(b));
    setOptions(sel, names.length ? names : [{ value: "", label: "(no workspaces)" }], state.ctx.ws);
    state.ctx.ws = sel.value;
    state.workspace = list.find((w) => w.name === state.ctx.ws) || null;
  } catch (e) {
    setOptions(sel, [{ value: "", label: "(error)" }]);
    state.ctx.ws = "";
    renderMainError(e, "The workspaces could not be listed");
    return;
  }
  saveContext();
  render();
  if (state.workspace) {
    refreshList();
  }
}

function renderMainError(e, heading) {
  const main = clear($("main"));
  main.append(h("h1", { tabindex: "-1" }, heading), errorBox(e, heading));
}

// ---------- routing ----------

function currentRoute() {
  const parts = (location.hash || "#/clusters").replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return { view: parts[0] || "clusters", arg: parts[1] || "" };
}

function render() {
  if (!state.client) {
    return;
  }
  const r = currentRoute();
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === r.view) {
      a.setAttribute("aria-current", "page");
    } else {
      a.removeAttribute("aria-current");
    }
  }
  const main = clear($("main"));
  if (r.view === "versions") {
    renderVersions(main);
  } else if (!state.workspace) {
    renderNoWorkspace(main);
  } else if (r.view === "endpoints") {
    renderEndpoints(main, r.arg);
  } else if (r.view === "clusters" && r.arg === "new") {
    renderCreate(main);
  } else if (r.view === "clusters" && r.arg === "attach") {
    renderAttach(main);
  } else if (r.view === "clusters" && r.arg) {
    renderDetail(main, r.arg);
  } else {
    renderClusters(main);
  }
  const h1 = main.querySelector("h1");
  // Land the focus on the new page's heading, unless the view focused a field itself or the
  // user is working the workspace picker.
  const active = document.activeElement;
  if (h1 && !main.contains(active) && !$("context").contains(active)) {
    h1.setAttribute("tabindex", "-1");
    h1.focus();
  }
  schedule();
}

function go(hash) {
  if (location.hash === hash) {
    render();
  } else {
    location.hash = hash;
  }
}

function renderNoWorkspace(main) {
  main.append(h("h1", {}, "Inference clusters"));
  if (!state.ctx.rg) {
    main.append(h("p", {}, "This subscription has no resource group. Create one with ", code("mlfleet group create -n rg1 -l westus"), "."));
  } else {
    main.append(h("p", {}, `Resource group ${state.ctx.rg} has no workspace. Create one with `,
      code(`mlfleet ml workspace create -n ws1 -g ${state.ctx.rg}`), ", then pick it above."));
  }
}

// ---------- data ----------

async function refreshList() {
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

async function vmSizes() {
  if (!state.vmSizes) {
    const loc = (state.workspace && state.workspace.location) || "westus";
    const list = await state.client.list(paths.vmSizes(state.ctx.sub, loc), versions.compute);
    state.vmSizes = new Map(list.map((s) => [s.name.toLowerCase(), s]));
  }
  return state.vmSizes;
}

async function locations() {
  if (!state.locations) {
    const list = await state.client.list(paths.locations(state.ctx.sub), versions.locations);
    state.locations = list.map((l) => l.name);
  }
  return state.locations;
}

function sizeOf(name) {
  return (state.vmSizes && name && state.vmSizes.get(name.toLowerCase())) || null;
}

function sizeLabel(s) {
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

function findCompute(name) {
  return state.computes.find((c) => c.name.toLowerCase() === name.toLowerCase()) || null;
}

function aks(c) {
  return (c.properties && c.properties.properties) || {};
}

function mlf(c) {
  return (c.properties && c.properties.mlfleet) || {};
}

function isCreated(c) {
  return !c.properties.isAttachedCompute;
}

function clusterName(c) {
  const id = c.properties.resourceId || "";
  return id.split("/").pop() || "";
}

// ---------- operations and auto-refresh ----------

// track follows the long-running operation a PUT or DELETE started, with a notice.
function track(name, label, resp, what) {
  const key = name.toLowerCase();
  const title = `${label} ${name}${what ? " " + what : ""}`;
  if (!resp.asyncOperation) {
    notice(`op:${key}`, "success", `${title}: done`, warningList(resp.warnings));
    return;
  }
  state.ops.set(key, { name, label, title, url: resp.asyncOperation, started: Date.now(), status: "InProgress", ctx: { ...state.ctx } });
  notice(`op:${key}`, "info", `${title}…`, warningList(resp.warnings));
  schedule(0);
}

function busy(c) {
  return BUSY_STATES.has(c.properties.provisioningState) || state.ops.has(c.name.toLowerCase());
}

function anyBusy() {
  return state.ops.size > 0 || state.computes.some(busy);
}

async function pollOperations() {
  for (const [key, op] of state.ops) {
    let st;
    try {
      st = await state.client.operation(op.url);
    } catch (e) {
      if (e.status === 401) {
        return;
      }
      st = { status: "Failed", error: e };
    }
    if (!st || st.status === "InProgress") {
      continue;
    }
    state.ops.delete(key);
    const took = fmtDuration(Date.now() - op.started);
    if (st.status === "Succeeded") {
      notice(`op:${key}`, "success", `${op.title}: Succeeded`, h("p", {}, `Finished in ${took}.`));
    } else {
      const err = st.error instanceof ApiError ? st.error : operationError(st.error);
      notice(`op:${key}`, "error", `${op.title}: ${st.status}`, errorBox(err, `The operation ended ${st.status} after ${took}`));
    }
    if (op.ctx.ws === state.ctx.ws && op.ctx.rg === state.ctx.rg) {
      await refreshList();
    }
  }
}

// schedule runs the refresh loop: every second while an operation runs (operations polled,
// the list refreshed every other second), every 30 seconds otherwise.
function schedule(delay) {
  clearTimeout(state.timer);
  if (!state.client) {
    return;
  }
  const wait = delay !== undefined ? delay : anyBusy() ? 1000 : 5000;
  state.timer = setTimeout(tick, wait);
}

async function tick() {
  if (!state.client) {
    return;
  }
  try {
    if (state.ops.size > 0) {
      await pollOperations();
    }
    const age = Date.now() - state.lastRefresh;
    if (state.workspace && ((anyBusy() && age >= 1900) || age >= 30000)) {
      await refreshList();
    } else {
      updateLiveViews();
    }
  } finally {
    schedule();
  }
}

// updateLiveViews redraws the parts of the current view that follow the list.
function updateLiveViews() {
  const r = currentRoute();
  if (r.view === "clusters" && !r.arg && $("computes-body")) {
    fillClusters();
  } else if (r.view === "clusters" && r.arg && !["new", "attach"].includes(r.arg) && $("detail")) {
    fillDetail(r.arg);
  }
}

// keepFocus redraws inside container and puts the focus back on the control that had it
// (matched by data-key), so that auto-refresh does not throw a keyboard user out.
function keepFocus(container, redraw) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : null;
  redraw();
  if (key) {
    const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) {
      again.focus();
    }
  }
}

// ---------- Inference clusters ----------

function renderClusters(main) {
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

function fillClusters() {
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

function renderDetail(main, name) {
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/clusters" }, "Inference clusters"), " › ", name),
    h("h1", {}, name),
    h("div", { id: "detail" }));
  fillDetail(name);
  if (!state.listLoaded) {
    refreshList();
  }
}

function fillDetail(name) {
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

// ---------- shared form parts ----------

// nameField is the compute name with its live availability check (SPEC S4).
function nameField(prefix, locationOf) {
  const input = h("input", { id: `${prefix}-name`, name: "name", required: true, autocomplete: "off", spellcheck: "false", maxlength: 64 });
  const msg = h("div", { id: `${prefix}-name-msg`, class: "name-msg", "aria-live": "polite" });
  input.setAttribute("aria-describedby", msg.id);
  const wrap = field("Compute name", input, "3–24 letters, digits and hyphens, starting with a letter; unique in the workspace and in the region.");
  wrap.append(msg);
  let seq = 0;
  let timer = 0;
  const result = { available: null, name: "" };
  const check = async () => {
    const name = input.value.trim();
    seq += 1;
    const mine = seq;
    if (!name) {
      clear(msg);
      input.removeAttribute("aria-invalid");
      result.available = null;
      return;
    }
    try {
      const loc = locationOf();
      const res = await state.client.request("POST", paths.checkName(state.ctx), {
        apiVersion: versions.ml, body: loc ? { name, type: "Microsoft.MachineLearningServices/workspaces/computes", location: loc } : { name, type: "Microsoft.MachineLearningServices/workspaces/computes" },
      });
      if (mine !== seq) {
        return;
      }
      const a = res.data || {};
      result.available = !!a.nameAvailable;
      result.name = name;
      clear(msg);
      if (a.nameAvailable) {
        input.removeAttribute("aria-invalid");
        msg.className = "name-msg name-ok";
        msg.append(`✓ ${name} is available.`);
      } else {
        input.setAttribute("aria-invalid", "true");
        msg.className = "name-msg";
        msg.append(h("div", { class: "alert alert-error", role: "alert", id: `${prefix}-name-alert` },
          h("strong", {}, a.reason === "AlreadyExists" ? "This name is taken. " : "This name is not valid. "),
          a.message || ""));
      }
    } catch (e) {
      if (mine === seq) {
        result.available = null;
        showResult(msg, errorBox(e, "The name could not be checked"), false);
      }
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
  return { wrap, input, msg, result, check };
}

function purposeField(prefix, onChange) {
  const fs = h("fieldset", { class: "radios" }, h("legend", {}, "Cluster purpose"));
  const radios = [];
  for (const p of PURPOSES) {
    const id = `${prefix}-purpose-${p.value}`;
    const r = h("input", { type: "radio", name: `${prefix}-purpose`, id, value: p.value, checked: p.value === DEFAULTS.purpose });
    r.addEventListener("change", onChange);
    radios.push(r);
    markTouched(r);
    fs.append(h("div", { class: "radio" }, r, h("label", { for: id }, h("strong", {}, p.title), h("span", { class: "hint block" }, p.text))));
  }
  return {
    wrap: fs,
    radios,
    value: () => (radios.find((r) => r.checked) || {}).value,
    touched: () => radios.some(touched),
  };
}

function loadBalancerField(prefix) {
  const type = select(`${prefix}-lb`, [
    { value: "PublicIp", label: "Public IP" },
    { value: "InternalLoadBalancer", label: "Internal load balancer" },
  ], DEFAULTS.loadBalancer);
  const subnet = h("input", { id: `${prefix}-lb-subnet`, placeholder: "aks-subnet", autocomplete: "off" });
  const subnetField = field("Load balancer subnet", subnet, "The subnet of the internal load balancer; empty means aks-subnet.");
  const sync = () => {
    subnetField.hidden = type.value !== "InternalLoadBalancer";
  };
  type.addEventListener("change", sync);
  sync();
  markTouched(type, subnet);
  return {
    wrap: h("div", {}, field("Load balancer", type, "How the inference front-end is reached."), subnetField),
    set(props) {
      if (touched(type)) {
        props.loadBalancerType = type.value;
      }
      if (type.value === "InternalLoadBalancer" && subnet.value.trim()) {
        props.loadBalancerSubnet = subnet.value.trim();
      }
    },
  };
}

function tlsField(prefix) {
  const status = select(`${prefix}-tls`, [
    { value: "Disabled", label: "Disabled" },
    { value: "Auto", label: "Auto: certificate issued by mlfleet" },
    { value: "Enabled", label: "Enabled: my certificate" },
  ], "Disabled");
  const leaf = h("input", { id: `${prefix}-tls-leaf`, autocomplete: "off" });
  const overwrite = h("input", { type: "checkbox", id: `${prefix}-tls-overwrite` });
  const cname = h("input", { id: `${prefix}-tls-cname`, autocomplete: "off" });
  const cert = h("textarea", { id: `${prefix}-tls-cert`, rows: 4, spellcheck: "false", placeholder: "-----BEGIN CERTIFICATE-----" });
  const key = h("textarea", { id: `${prefix}-tls-key`, rows: 4, spellcheck: "false", placeholder: "-----BEGIN PRIVATE KEY-----" });
  const auto = h("div", { class: "sub" },
    field("Leaf domain label", leaf, "The first label of the front-end's name."),
    h("div", { class: "check" }, overwrite, h("label", { for: overwrite.id }, "Overwrite an existing domain of this label")));
  const own = h("div", { class: "sub" },
    field("CNAME", cname, "The name the certificate is for."),
    field("Certificate (PEM)", cert),
    field("Private key (PEM)", key, "Stored encrypted; never shown again."));
  const sync = () => {
    auto.hidden = status.value !== "Auto";
    own.hidden = status.value !== "Enabled";
  };
  status.addEventListener("change", sync);
  sync();
  markTouched(status);
  return {
    wrap: h("fieldset", { class: "group" }, h("legend", {}, "TLS"), field("TLS for the inference front-end", status), auto, own),
    set(props) {
      if (status.value === "Auto") {
        props.sslConfiguration = { status: "Auto", leafDomainLabel: leaf.value.trim() };
        if (overwrite.checked) {
          props.sslConfiguration.overwriteExistingDomain = true;
        }
      } else if (status.value === "Enabled") {
        props.sslConfiguration = { status: "Enabled", cname: cname.value.trim(), cert: cert.value, key: key.value };
      } else if (touched(status)) {
        props.sslConfiguration = { status: "Disabled" };
      }
    },
  };
}

// capacityPanel shows nodes × cores against the purpose's minimum (SPEC S5) as the user
// types. It returns the element and an update(nodes, size, purpose, note, fix) function:
// fix, when given, is the advice a failed rule ends with (else: add nodes, a larger size or
// Dev/test, which is what the create form can change).
function capacityPanel(id) {
  const el = h("div", { class: "capacity", id, "aria-live": "polite" });
  const update = (nodes, size, purpose, note, fix) => {
    clear(el);
    if (!size || !Number.isFinite(nodes)) {
      el.append(h("p", { class: "muted" }, note || "Pick a node count and a VM size to see the vCPU total."));
      return;
    }
    const total = nodes * size.numberOfCores;
    const production = purpose === "FastProd" || purpose === "DenseProd";
    el.append(h("p", { class: "capacity-total" },
      h("strong", { id: `${id}-total` }, `${total} vCPUs`),
      ` = ${plural(nodes, "node")} × ${size.numberOfCores} vCPUs (${size.name})`));
    const min = production ? PRODUCTION_MIN_VCPUS : DEVTEST_RECOMMENDED_VCPUS;
    el.append(h("meter", { min: 0, max: Math.max(min * 2, total), low: min, optimum: Math.max(min * 2, total), value: total, "aria-label": `${total} of at least ${min} vCPUs` }));
    const lines = h("ul", { class: "capacity-rules" });
    if (production) {
      const ok = total >= PRODUCTION_MIN_VCPUS;
      lines.append(h("li", { class: ok ? "rule-ok" : "rule-bad" },
        ok ? `✓ At least ${PRODUCTION_MIN_VCPUS} vCPUs, the production minimum.`
          : `✗ Production (${purpose}) needs at least ${PRODUCTION_MIN_VCPUS} vCPUs; ${total} is ${PRODUCTION_MIN_VCPUS - total} short. ${fix || "Add nodes, pick a larger VM size, or use Dev/test."}`));
      if (purpose === "FastProd") {
        const okn = nodes >= FASTPROD_MIN_NODES;
        lines.append(h("li", { class: okn ? "rule-ok" : "rule-bad" },
          okn ? `✓ At least ${FASTPROD_MIN_NODES} nodes, the FastProd minimum.`
            : `✗ FastProd needs at least ${FASTPROD_MIN_NODES} nodes; ${nodes} is too few.${fix ? " " + fix : ""}`));
      }
    } else {
      const ok = total >= DEVTEST_RECOMMENDED_VCPUS;
      lines.append(h("li", { class: ok ? "rule-ok" : "rule-warn" },
        ok ? `✓ Dev/test: ${DEVTEST_RECOMMENDED_VCPUS} vCPUs or more recommended (production would need ${PRODUCTION_MIN_VCPUS}).`
          : `! Dev/test: at least ${DEVTEST_RECOMMENDED_VCPUS} vCPUs are recommended (a warning, not an error).`));
    }
    el.append(lines);
    if (note) {
      el.append(h("p", { class: "hint" }, note));
    }
  };
  return { el, update };
}

// renderChecks shows the answer of a dry run (validateOnly): every check with its outcome.
function renderChecks(v, warnings) {
  const box = h("div", { class: v.valid ? "checks checks-ok" : "checks checks-bad", role: "status", tabindex: "-1" });
  box.append(h("p", { class: "checks-title" }, v.valid ? "✓ Every check passed. Nothing was changed." : "✗ Some checks failed."));
  const ul = h("ul");
  for (const c of v.checks || []) {
    ul.append(h("li", { class: c.passed ? "rule-ok" : "rule-bad" }, h("strong", {}, `${c.passed ? "✓" : "✗"} ${c.name}`), c.message ? `: ${c.message}` : ""));
  }
  box.append(ul);
  const all = [...new Set([...(v.warnings || []), ...(warnings || [])])];
  if (all.length > 0) {
    box.append(h("p", { class: "checks-title" }, "Warnings"), h("ul", { class: "warnings" }, all.map((w) => h("li", {}, w))));
  }
  return box;
}

// checksError shows a failed dry run: the error, then every check it ran, passed or not
// (the server sends them in additionalInfo, type ComputeChecks).
function checksError(e, heading) {
  const info = (e.additionalInfo || []).find((i) => i && i.type === "ComputeChecks");
  const box = errorBox(e, heading);
  if (!info || !info.info || !Array.isArray(info.info.checks)) {
    return box;
  }
  box.append(renderChecks({ valid: false, checks: info.info.checks }, []));
  return box;
}

// dryRun runs a PUT's checks (validateOnly); headers are the PUT's own (createOnly for a
// create).
async function dryRun(name, body, area, heading, headers) {
  if (!name) {
    showResult(area, errorBox({ code: "", message: "Enter a compute name first." }, "Nothing to check"));
    return;
  }
  clear(area).append(h("p", { class: "muted" }, "Checking…"));
  try {
    const res = await state.client.request("PUT", paths.compute(state.ctx, name), { apiVersion: versions.ml, query: { validateOnly: "true" }, body, headers });
    showResult(area, renderChecks(res.data || {}, res.warnings));
  } catch (e) {
    showResult(area, checksError(e, heading));
  }
}

// submitCompute makes form's submit button PUT the compute named in name (a create: it
// must not exist yet) with what request returns (body and query), track the operation as
// progress ("Creating", "Attaching") and go back to the list; a failure shows in result
// under "Compute <name> was not <failed>".
function submitCompute(form, name, result, request, progress, failed) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const n = name.input.value.trim();
    if (name.result.available === false && name.result.name === n) {
      name.input.focus();
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    clear(result).append(h("p", { class: "muted" }, "Submitting…"));
    try {
      const res = await state.client.request("PUT", paths.compute(state.ctx, n), { apiVersion: versions.ml, ...request(), headers: createOnly });
      track(n, progress, res);
      state.computes = state.computes.filter((c) => c.name.toLowerCase() !== n.toLowerCase());
      if (res.data) {
        state.computes.push(res.data);
      }
      go("#/clusters");
    } catch (e) {
      showResult(result, errorBox(e, `Compute ${n} was not ${failed}`));
    } finally {
      submit.disabled = false;
    }
  });
}

// clearOnEdit empties a result area as soon as the form changes: a check's outcome is
// about the values it was run with.
function clearOnEdit(form, area) {
  const stale = (ev) => {
    if (!ev.target.closest(".name-msg")) {
      clear(area);
    }
  };
  form.addEventListener("input", stale);
  form.addEventListener("change", stale);
}

function formButtons(prefix, primaryText, onCheck) {
  return h("div", { class: "actions" },
    h("button", { type: "submit", class: "primary", id: `${prefix}-submit` }, primaryText),
    button("Check", { id: `${prefix}-check`, onClick: onCheck, title: "Run every check without changing anything (dry run)" }),
    h("a", { href: "#/clusters", class: "button" }, "Cancel"));
}

// ---------- Create ----------

function renderCreate(main) {
  const ws = state.workspace;
  const form = h("form", { class: "card form", id: "create-form", novalidate: false });
  const loc = select("create-location", [ws.location], ws.location);
  const name = nameField("create", () => loc.value);
  const purpose = purposeField("create", () => updateCapacity());
  const count = h("input", { id: "create-count", type: "number", min: 1, max: 100, step: 1, value: DEFAULTS.agentCount, required: true });
  const size = select("create-vmsize", [{ value: DEFAULTS.vmSize, label: DEFAULTS.vmSize }], DEFAULTS.vmSize);
  const capacity = capacityPanel("create-capacity");
  const version = h("p", { class: "hint", id: "create-version" }, "Kubernetes version: loading…");
  const lb = loadBalancerField("create");
  const tls = tlsField("create");
  const result = h("div", { class: "result", id: "create-result" });
  markTouched(count, size, loc);

  function updateCapacity() {
    capacity.update(Number.parseInt(count.value, 10), sizeOf(size.value), purpose.value());
  }
  count.addEventListener("input", updateCapacity);
  size.addEventListener("change", updateCapacity);
  loc.addEventListener("change", () => {
    name.check();
    showDefaultVersion();
  });
  async function showDefaultVersion() {
    const l = loc.value;
    try {
      const o = await state.client.get(paths.orchestrators(state.ctx.sub, l), versions.orchestrators);
      const def = ((o.properties && o.properties.orchestrators) || []).find((x) => x.default);
      if (l === loc.value) {
        version.textContent = def ? `Kubernetes version: ${def.orchestratorVersion}, the default of ${l}. A cluster created from a workspace gets its location's default.` : `No default Kubernetes version in ${l}.`;
      }
    } catch (e) {
      version.textContent = `Kubernetes version: unknown (${e.code}: ${e.message})`;
    }
  }

  function body() {
    const props = {};
    if (touched(count)) {
      props.agentCount = Number.parseInt(count.value, 10);
    }
    if (touched(size)) {
      props.agentVmSize = size.value;
    }
    if (purpose.touched()) {
      props.clusterPurpose = purpose.value();
    }
    lb.set(props);
    tls.set(props);
    const b = { location: ws.location, properties: { computeType: "AKS", properties: props } };
    if (loc.value !== ws.location) {
      b.properties.computeLocation = loc.value;
    }
    return b;
  }

  append(form, [
    h("p", { class: "lead" }, `A new Kubernetes cluster, created in resource group ${state.ctx.rg} and attached to workspace ${ws.name}.`),
    name.wrap,
    purpose.wrap,
    h("fieldset", { class: "group" }, h("legend", {}, "Nodes"),
      h("div", { class: "row2" },
        field("Node count", count),
        field("VM size", size, "Cores per node are shown with each size.")),
      capacity.el),
    h("fieldset", { class: "group" }, h("legend", {}, "Location and network"),
      field("Location", loc, "Where the cluster runs; the compute name must be unique there."),
      version,
      lb.wrap),
    tls.wrap,
    formButtons("create", "Create", () => dryRun(name.input.value.trim(), body(), result, "The checks found problems", createOnly)),
    result,
  ]);
  clearOnEdit(form, result);
  submitCompute(form, name, result, () => ({ body: body() }), "Creating", "created");

  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/clusters" }, "Inference clusters"), " › Create"),
    h("h1", {}, "Create inference cluster"),
    form);
  updateCapacity();
  showDefaultVersion();
  vmSizes().then((sizes) => {
    const list = [...sizes.values()].sort((a, b) => a.numberOfCores - b.numberOfCores || a.name.localeCompare(b.name));
    setOptions(size, list.map((s) => ({ value: s.name, label: sizeLabel(s) })), size.value);
    updateCapacity();
  }).catch((e) => showResult(result, errorBox(e, "The VM sizes could not be listed")));
  locations().then((locs) => setOptions(loc, locs, loc.value)).catch(() => {});
  name.input.focus();
}

// ---------- Attach ----------

function renderAttach(main) {
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

// ---------- dialogs: scale, detach, delete ----------

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

function openScale(name) {
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

function openRemove(name, action) {
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

// ---------- Kubernetes versions ----------

function renderVersions(main) {
  const def = (state.workspace && state.workspace.location) || "westus";
  const loc = select("versions-location", [def], def);
  const out = h("div", { id: "versions-out", "aria-live": "polite" });
  main.append(
    h("div", { class: "page-head" },
      h("h1", {}, "Kubernetes versions"),
      h("p", { class: "lead" }, "The versions a managed cluster can run in a location, with the default that clusters created from a workspace get and the upgrades each version allows. Attached clusters must run one of them.")),
    h("div", { class: "toolbar" }, field("Location", loc)),
    out);
  const load = async () => {
    clear(out).append(h("p", { class: "muted" }, "Loading…"));
    const l = loc.value;
    try {
      const o = await state.client.get(paths.orchestrators(state.ctx.sub, l), versions.orchestrators);
      if (l !== loc.value) {
        return;
      }
      const list = (o.properties && o.properties.orchestrators) || [];
      const tbody = h("tbody");
      for (const v of list) {
        const ups = (v.upgrades || []).map((u) => u.orchestratorVersion + (u.isPreview ? " (preview)" : ""));
        tbody.append(h("tr", { "data-version": v.orchestratorVersion },
          h("td", { "data-label": "Version" }, h("strong", {}, v.orchestratorVersion)),
          h("td", { "data-label": "Default" }, v.default ? h("span", { class: "badge badge-succeeded" }, "Default") : ""),
          h("td", { "data-label": "Preview" }, v.isPreview ? h("span", { class: "badge badge-preview" }, "Preview: no SLA") : ""),
          h("td", { "data-label": "Upgrades" }, ups.length ? ups.join(", ") : h("span", { class: "muted" }, "None available"))));
      }
      clear(out).append(h("div", { class: "table-wrap" }, h("table", { class: "grid cards", id: "versions-table" },
        h("caption", { class: "sr-only" }, `Kubernetes versions of ${l}`),
        h("thead", {}, h("tr", {}, ["Kubernetes version", "Default", "Preview", "Upgrades"].map((t) => h("th", { scope: "col" }, t)))),
        tbody)));
    } catch (e) {
      showResult(out, errorBox(e, `The versions of ${l} could not be listed`));
    }
  };
  loc.addEventListener("change", load);
  load();
  locations().then((locs) => setOptions(loc, locs, loc.value)).catch(() => {});
}

// ---------- start ----------

function start() {
  $("sign-out").addEventListener("click", () => signOut());
  $("ctx-sub").addEventListener("change", async () => {
    state.ctx = { sub: $("ctx-sub").value, rg: "", ws: "" };
    $("ctx-sub").title = state.ctx.sub;
    await loadGroups();
  });
  $("ctx-rg").addEventListener("change", async () => {
    state.ctx = { ...state.ctx, rg: $("ctx-rg").value, ws: "" };
    await loadWorkspaces();
  });
  $("ctx-ws").addEventListener("change", async () => {
    state.ctx = { ...state.ctx, ws: $("ctx-ws").value };
    await loadWorkspaces();
  });
  $("dialog").addEventListener("close", () => clear($("dialog")));
  window.addEventListener("hashchange", render);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    renderSignIn();
    return;
  }
  signIn(token).catch((e) => signOut(e));
}

start();
