// mlfleet Studio's long-running operations and auto-refresh: track follows the operation
// a PUT or DELETE started (with its notice), the refresh loop polls the operations and the
// compute list, and updateLiveViews redraws the part of the view on screen that follows the
// list without throwing the keyboard focus out.

import { ApiError } from "./api.js";
import { $, errorBox, fmtDuration, h, notice, operationError, warningList } from "./dom.js";
import { refreshList } from "./data.js";
import { fillClusters, fillDetail } from "./clusters.js";
import { currentRoute, state } from "./app.js";

export const BUSY_STATES = new Set(["Creating", "Updating", "Deleting"]);

// track follows the long-running operation a PUT or DELETE started, with a notice.
export function track(name, label, resp, what) {
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

export function busy(c) {
  return BUSY_STATES.has(c.properties.provisioningState) || state.ops.has(c.name.toLowerCase());
}

export function anyBusy() {
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
export function schedule(delay) {
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
export function updateLiveViews() {
  const r = currentRoute();
  if (r.view === "clusters" && !r.arg && $("computes-body")) {
    fillClusters();
  } else if (r.view === "clusters" && r.arg && !["new", "attach"].includes(r.arg) && $("detail")) {
    fillDetail(r.arg);
  }
}

// keepFocus redraws inside container and puts the focus back on the control that had it
// (matched by data-key), so that auto-refresh does not throw a keyboard user out.
export function keepFocus(container, redraw) {
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
