// mlfleet Studio, the page's entry module: the state every view shares (the signed-in
// client, the workspace picked, the compute list, the operations running), sign-in and
// sign-out, the workspace picker (subscription, resource group, workspace), the routes
// "#/…" to the views, and the start of the page. The views are modules of their own:
// clusters.js (Compute → Inference clusters: the list and a cluster's detail), create.js,
// attach.js, dialogs.js (scale, detach, delete), versions.js (Kubernetes versions) and
// endpoints.js (Endpoints → Online endpoints); dom.js builds elements, data.js reads the
// compute list, VM sizes and locations, operations.js follows operations and refreshes.
// Everything is built with DOM calls and textContent: nothing the API returns is parsed as
// HTML.

import { Client, paths, versions } from "./api.js";
import { $, clear, code, errorBox, field, h, setOptions, showResult } from "./dom.js";
import { refreshList } from "./data.js";
import { schedule } from "./operations.js";
import { renderClusters, renderDetail } from "./clusters.js";
import { renderCreate } from "./create.js";
import { renderAttach } from "./attach.js";
import { renderVersions } from "./versions.js";
import { renderEndpoints } from "./endpoints.js";

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

export function currentRoute() {
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

export function go(hash) {
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
