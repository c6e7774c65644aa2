// DOM and formatting helpers shared by the studio page's modules (no framework).

/** `h("li", {class: "x", onclick}, child, "text")`: an element with attributes and children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export const $ = (id) => document.getElementById(id);

export function bytes(n) {
  if (!Number.isFinite(n)) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) [v, i] = [v / 1024, i + 1];
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString();
}

export const ms = (n) => (n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(1)} s`);

/** Reports a failed action where the user looks; 401s are handled by the sign-in flow. */
export function reporter(target) {
  return (err) => {
    if (err?.status === 401) return;
    target.textContent = err?.message ?? String(err);
  };
}

/** Wraps an event handler so a rejection is shown (never unhandled). */
export function guard(fn, report) {
  return (...args) => {
    Promise.resolve()
      .then(() => fn(...args))
      .catch(report);
  };
}
