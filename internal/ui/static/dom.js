// mlfleet Studio's DOM helpers: h builds an element (text through textContent, never
// HTML), labelled fields, selects, buttons, times and plurals; the error box that shows an
// ARM error as it came; and the notices above the page that follow operations. This module
// imports nothing: it knows neither the API nor the page's state.

// ---------- DOM helpers ----------

export function $(id) {
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

export function setOptions(sel, options, value) {
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
export function markTouched(...controls) {
  for (const c of controls) {
    const mark = () => {
      c.dataset.touched = "1";
    };
    c.addEventListener("input", mark);
    c.addEventListener("change", mark);
  }
}

export function touched(c) {
  return c.dataset.touched === "1";
}

export function fmtTime(d) {
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function fmtDuration(ms) {
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
export function notice(key, kind, title, body) {
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

export function warningList(warnings) {
  return warnings && warnings.length ? h("ul", { class: "warnings" }, warnings.map((w) => h("li", {}, w))) : null;
}
