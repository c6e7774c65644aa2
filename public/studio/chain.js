// Chain panel: steps from GET /steps as generated forms; add, remove, reorder (buttons, Alt+↑/↓),
// presets from GET /presets, copy/paste as JSON, and a 400 invalid_chain shown on its step and field.
import { h, $ } from "./dom.js";
import { fields } from "./schema-form.js";

let catalogue = new Map(); // op → {op, description, params}
let presets = [];
let steps = []; // [{key, op, params}]
let nextKey = 1;

export function initChain(stepCatalogue, presetCatalogue) {
  catalogue = new Map(stepCatalogue.steps.map((s) => [s.op, s]));
  presets = presetCatalogue.presets;
  $("add-op").replaceChildren(...[...catalogue.keys()].map((op) => h("option", { value: op }, op)));
  const describe = () => ($("add-help").textContent = catalogue.get($("add-op").value)?.description ?? "");
  $("add-op").onchange = describe;
  describe();
  $("add-step").onclick = () => {
    steps.push(entry({ op: $("add-op").value }));
    render(steps.length - 1, ".op-title");
  };
  $("preset").replaceChildren(...presets.map((p) => h("option", { value: p.name }, `${p.name}: ${p.description}`)));
  $("preset-load").onclick = () => {
    const preset = presets.find((p) => p.name === $("preset").value);
    if (preset) set(preset.steps);
  };
  $("copy-json").onclick = copy;
  $("apply-json").onclick = apply;
  if (!steps.length) render();
}

/** The chain as the API takes it: `[{op, …params}]`. */
export const chain = () => steps.map((s) => ({ op: s.op, ...s.params }));

export function set(list) {
  steps = list.map(entry);
  render();
}

function entry(step) {
  const { op, ...params } = step;
  return { key: nextKey++, op, params: structuredClone(params) };
}

/** Shows an API error: `steps[i].field: …` on that step and field, anything else above the list. */
export function showError(err) {
  clearErrors();
  const m = /^steps\[(\d+)\](?:\.(\w+))?:?\s*(.*)$/.exec(err.message);
  const card = m && $("steps").children[Number(m[1])];
  if (!card) {
    $("chain-error").textContent = err.message;
    return;
  }
  card.classList.add("invalid");
  const field = m[2] && card.querySelector(`[data-field="${CSS.escape(m[2])}"]`);
  const where = field ? field.querySelector(".field-error") : card.querySelector(".step-error");
  where.textContent = m[3] || err.message;
  const control = field?.querySelector("input, select");
  control?.setAttribute("aria-invalid", "true");
  (control ?? card.querySelector(".op-title")).focus();
  $("chain-error").textContent = `Step ${Number(m[1]) + 1} (${steps[m[1]]?.op}): ${err.message}`;
}

export function clearErrors() {
  $("chain-error").textContent = "";
  for (const el of $("steps").querySelectorAll(".field-error, .step-error")) el.textContent = "";
  for (const el of $("steps").querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of $("steps").querySelectorAll(".invalid")) el.classList.remove("invalid");
}

// Re-renders the list; `focusIndex`/`focusSelector` put the keyboard focus back where it was.
function render(focusIndex, focusSelector) {
  const list = $("steps");
  list.replaceChildren(...steps.map(card));
  if (!steps.length) list.append(h("li", { class: "help empty" }, "No steps yet: load a preset or add steps below."));
  syncJson();
  if (focusIndex !== undefined) list.children[focusIndex]?.querySelector(focusSelector)?.focus();
}

function move(from, to, selector) {
  if (to < 0 || to >= steps.length) return;
  const [s] = steps.splice(from, 1);
  steps.splice(to, 0, s);
  render(to, selector);
}

function card(step, i) {
  const spec = catalogue.get(step.op);
  const n = i + 1;
  const title = `${n}. ${step.op}`;
  const body = spec
    ? fields(spec.params, step.params, syncJson, `step${step.key}`)
    : [h("p", { class: "error" }, `unknown step "${step.op}"`)];
  return h(
    "li",
    {
      class: "step",
      onkeydown: (e) => {
        if (!e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
        e.preventDefault();
        move(i, e.key === "ArrowUp" ? i - 1 : i + 1, ".op-title");
      },
    },
    h(
      "div",
      { class: "step-head" },
      h("h3", { class: "op-title", tabindex: "-1" }, title),
      h("div", { class: "step-buttons" }, [
        h("button", { type: "button", class: "up", "aria-label": `Move step ${n} up`, disabled: i === 0, onclick: () => move(i, i - 1, ".up:enabled, .down") }, "↑"),
        h("button", { type: "button", class: "down", "aria-label": `Move step ${n} down`, disabled: i === steps.length - 1, onclick: () => move(i, i + 1, ".down:enabled, .up") }, "↓"),
        h("button", { type: "button", "aria-label": `Remove step ${n}`, onclick: () => remove(i) }, "✕"),
      ]),
    ),
    spec ? h("p", { class: "help" }, spec.description) : null,
    h("div", { class: "fields" }, body),
    h("p", { class: "error step-error", role: "alert" }),
  );
}

function remove(i) {
  steps.splice(i, 1);
  render(Math.min(i, steps.length - 1), ".op-title");
  if (!steps.length) $("add-op").focus();
}

function syncJson() {
  const area = $("chain-json");
  if (document.activeElement !== area) area.value = JSON.stringify(chain(), null, 2);
}

async function copy() {
  const area = $("chain-json");
  area.value = JSON.stringify(chain(), null, 2);
  try {
    await navigator.clipboard.writeText(area.value);
    $("chain-error").textContent = "";
    $("copy-json").textContent = "Copied";
    setTimeout(() => ($("copy-json").textContent = "Copy JSON"), 1500);
  } catch {
    area.select(); // no clipboard permission: the text is selected for Ctrl+C
  }
}

function apply() {
  clearErrors();
  let value;
  try {
    value = JSON.parse($("chain-json").value);
  } catch (err) {
    $("chain-error").textContent = `Chain JSON: ${err.message}`;
    return;
  }
  const list = Array.isArray(value) ? value : value?.steps;
  if (!Array.isArray(list) || !list.every((s) => s && typeof s.op === "string")) {
    $("chain-error").textContent = 'Chain JSON: expected [{"op": …}, …] or {"steps": [...]}';
    return;
  }
  set(list);
}
