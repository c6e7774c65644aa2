// Form fields generated from a step's JSON Schema: numbers with min/max/step, selects for enums,
// checkboxes, colour pickers for #rrggbb, an "auto" switch where a oneOf allows a constant.
import { h } from "./dom.js";

const COLOUR = /^\^#\[0-9a-fA-F\]\{6\}/;

/**
 * The fields for `schema` (a step's `params`), editing `params` in place; `changed()` after each edit.
 * Absent parameters show the schema's default and are left out of the chain (the server applies it).
 */
export function fields(schema, params, changed, idPrefix) {
  const required = new Set(schema.required ?? []);
  const props = Object.entries(schema.properties ?? {});
  if (!props.length) return [h("p", { class: "help" }, "No parameters.")];
  const eitherOf = (schema.anyOf ?? []).flatMap((a) => a.required ?? []);
  return props.map(([name, nullableProp]) => {
    const prop = withoutNull(nullableProp);
    const id = `${idPrefix}-${name}`;
    const mark = required.has(name) ? " (required)" : eitherOf.includes(name) ? " (this or another)" : "";
    const set = (value) => {
      if (value === undefined) delete params[name];
      else params[name] = value;
      changed();
    };
    const help = [prop.description, range(prop)].filter(Boolean).join(" · ");
    const control = input(prop, params[name], set, id, required.has(name));
    const target = control.id === id ? control : control.querySelector(`#${CSS.escape(id)}`);
    target.setAttribute("aria-describedby", [help ? `${id}-help` : "", `${id}-error`].join(" ").trim());
    return h(
      "div",
      { class: "field", "data-field": name },
      h("label", { for: id }, name + mark),
      control,
      help ? h("small", { id: `${id}-help`, class: "help" }, help) : null,
      h("small", { class: "error field-error", id: `${id}-error` }),
    );
  });
}

// An optional parameter's schema also admits null (meaning its default); a form leaves such a
// field out instead, so its control is built from the non-null part.
function withoutNull(prop) {
  const out = { ...prop };
  if (Array.isArray(prop.type)) {
    const types = prop.type.filter((t) => t !== "null");
    out.type = types.length === 1 ? types[0] : types;
  }
  if (prop.enum) out.enum = prop.enum.filter((v) => v !== null);
  if (prop.oneOf) out.oneOf = prop.oneOf.filter((o) => o.type !== "null");
  return out;
}

function range(prop) {
  const num = prop.oneOf?.find((o) => o.type === "number" || o.type === "integer") ?? prop;
  const parts = [];
  if (num.minimum !== undefined && num.maximum !== undefined) parts.push(`${num.minimum} to ${num.maximum}`);
  else if (num.minimum !== undefined) parts.push(`at least ${num.minimum}`);
  if (prop.default !== undefined) parts.push(`default ${JSON.stringify(prop.default)}`);
  return parts.join(", ");
}

function input(prop, value, set, id, required) {
  if (prop.enum) return select(prop, value, set, id, required);
  if (prop.type === "boolean") {
    return h("input", {
      type: "checkbox",
      id,
      checked: value ?? prop.default ?? false,
      onchange: (e) => set(e.target.checked),
    });
  }
  if (prop.type === "number" || prop.type === "integer") return number(prop, value, set, id, required);
  if (prop.oneOf) return auto(prop, value, set, id);
  if (prop.type === "string" && COLOUR.test(prop.pattern ?? "")) return colour(prop, value, set, id);
  return h("input", {
    type: "text",
    id,
    value: value ?? "",
    placeholder: prop.examples?.[0] ?? prop.default ?? "",
    required,
    maxlength: prop.maxLength,
    oninput: (e) => set(e.target.value === "" ? undefined : e.target.value),
  });
}

function select(prop, value, set, id, required) {
  const fallback = prop.default !== undefined ? `default (${prop.default})` : "choose…";
  const options = [h("option", { value: "" }, required ? "choose…" : fallback)];
  for (const v of prop.enum) options.push(h("option", { value: v, selected: v === value }, v));
  return h("select", { id, required, onchange: (e) => set(e.target.value || undefined) }, options);
}

function number(prop, value, set, id, required) {
  const integer = prop.type === "integer";
  const span = (prop.maximum ?? 1000) - (prop.minimum ?? 0);
  const step = integer ? 1 : span <= 10 ? 0.01 : 0.1;
  return h("input", {
    type: "number",
    id,
    inputmode: integer ? "numeric" : "decimal",
    min: prop.minimum,
    max: prop.maximum,
    step,
    required,
    value: value ?? "",
    placeholder: prop.default ?? prop.examples?.[0] ?? "",
    oninput: (e) => set(e.target.value === "" ? undefined : Number(e.target.value)),
  });
}

// `#rrggbb` (the picker) for a value with an optional alpha: untouched, the default (maybe
// transparent) stays; a value with alpha digits keeps them when the colour is changed.
function colour(prop, value, set, id) {
  const current = value ?? prop.default ?? "#000000";
  return h("input", {
    type: "color",
    id,
    value: current.slice(0, 7).toLowerCase(),
    oninput: (e) => set(e.target.value + (value ?? "").slice(7, 9)),
  });
}

// A oneOf of a number and a constant ("auto"): a checkbox for the constant, a number otherwise.
function auto(prop, value, set, id) {
  const constant = prop.oneOf.find((o) => "const" in o)?.const ?? "auto";
  const numeric = prop.oneOf.find((o) => o.type === "number" || o.type === "integer") ?? {};
  const isAuto = (value ?? prop.default) === constant;
  const num = number(numeric, isAuto ? undefined : value, set, id, false);
  num.disabled = isAuto;
  const box = h("input", {
    type: "checkbox",
    id: `${id}-auto`,
    checked: isAuto,
    onchange: (e) => {
      num.disabled = e.target.checked;
      set(e.target.checked ? constant : num.value === "" ? undefined : Number(num.value));
    },
  });
  return h("span", { class: "auto" }, num, h("label", { for: box.id }, box, ` ${constant}`));
}
