// mlfleet Studio: the form parts that Create, Attach and the Scale dialog share: the
// cluster purposes and their rules (SPEC S5), the compute name with its live availability
// check (SPEC S4), load balancer, TLS, the capacity panel, dry runs (validateOnly) with
// their checks, and the submit that PUTs a new compute.

import { createOnly, paths, versions } from "./api.js";
import { button, clear, errorBox, field, h, markTouched, plural, select, showResult, touched } from "./dom.js";
import { track } from "./operations.js";
import { go, state } from "./app.js";

// The rules of cluster purposes (SPEC S5), for the hints shown while typing; the server
// checks them again and its answer is what counts.
export const PRODUCTION_MIN_VCPUS = 12;
export const FASTPROD_MIN_NODES = 3;
const DEVTEST_RECOMMENDED_VCPUS = 2;
// The server's defaults for a compute created from the workspace (SPEC S1).
export const DEFAULTS = { agentCount: 3, vmSize: "Standard_D3_v2", purpose: "FastProd", loadBalancer: "PublicIp" };
const PURPOSES = [
  { value: "FastProd", title: "Production (FastProd)", text: `At least ${PRODUCTION_MIN_VCPUS} vCPUs and ${FASTPROD_MIN_NODES} nodes; the inference front-end runs highly available.` },
  { value: "DenseProd", title: "Production (DenseProd)", text: `At least ${PRODUCTION_MIN_VCPUS} vCPUs; for many models on fewer nodes.` },
  { value: "DevTest", title: "Dev/test", text: `One front-end replica, no fault tolerance; ${DEVTEST_RECOMMENDED_VCPUS} vCPUs or more recommended.` },
];

// nameField is the compute name with its live availability check (SPEC S4).
export function nameField(prefix, locationOf) {
  const input = h("input", { id: `${prefix}-name`, name: "name", required: true, autocomplete: "off", spellcheck: "false", maxlength: 64 });
  const msg = h("div", { id: `${prefix}-name-msg`, class: "name-msg", "aria-live": "polite" });
  input.setAttribute("aria-describedby", msg.id);
  const wrap = field("Compute name", input, "3–24 letters, digits and hyphens, starting with a letter and ending with a letter or digit; unique in the workspace and in the region.");
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

export function purposeField(prefix, onChange) {
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

export function loadBalancerField(prefix) {
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

export function tlsField(prefix) {
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
export function capacityPanel(id) {
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
export function renderChecks(v, warnings) {
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
export function checksError(e, heading) {
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
export async function dryRun(name, body, area, heading, headers) {
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
export function submitCompute(form, name, result, request, progress, failed) {
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
export function clearOnEdit(form, area) {
  const stale = (ev) => {
    if (!ev.target.closest(".name-msg")) {
      clear(area);
    }
  };
  form.addEventListener("input", stale);
  form.addEventListener("change", stale);
}

export function formButtons(prefix, primaryText, onCheck) {
  return h("div", { class: "actions" },
    h("button", { type: "submit", class: "primary", id: `${prefix}-submit` }, primaryText),
    button("Check", { id: `${prefix}-check`, onClick: onCheck, title: "Run every check without changing anything (dry run)" }),
    h("a", { href: "#/clusters", class: "button" }, "Cancel"));
}
