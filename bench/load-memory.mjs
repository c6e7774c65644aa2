// The load bench's memory readings and the checks on them (bench/load.mjs; docs/RELIABILITY.md,
// "Memory"). Pure functions of the readings, so they can be judged again from
// bench/load-results.json and tested without a server (tests/js/load-memory.test.mjs).
//
// A server's readings are `{ warm, passes: [after pass 1, after pass 2, ...] }`, each
// `{ rss, heap, js, settled, waited_s }` (heap: `GET /__bench/memory`, null for the control; js:
// the isolate's V8 heap, null when the inspector did not answer).

import { r1 } from "./load-mix.mjs";

// The issue's bound: workerd's RSS after the run within 1.2× of after warm-up.
export const RSS_FACTOR = 1.2;
// Where V8's and the allocator's growth steps land differs between two runs of one server (V8's
// young generation alone is two semi-spaces of up to 16 MiB).
export const RSS_NOISE = 32 << 20;
export const HEAP_MARGIN = 1 << 20;
// JS values the glue may hold for Rust beyond warm-up's, per measured request: the count moves
// with how many objects (each holding its state and storage handles) are alive in the isolate
// when it is read (+28 and +72 in two 3,000-request runs), while a leak of one value per
// request, per task or per upload grows by at least a tenth of the requests.
export const JS_VALUES_PER_REQUEST = 1 / 20;

export const mib = (b) => r1(b / 2 ** 20);
export const kib = (b) => r1(b / 1024);
const signed = (x) => `${x >= 0 ? "+" : ""}${x}`;
export const check = (ok, what, figures) => ({ ok, what, figures });

// The reading each pass is measured from: warm-up for the first pass, the pass before otherwise.
const before = (m, i) => (i === 0 ? m.warm : m.passes[i - 1]);
export const growths = (m) => m.passes.map((p, i) => p.rss - before(m, i).rss);
const linearGrowth = (m, i) => (m.passes[i].heap && before(m, i).heap ? Math.max(0, m.passes[i].heap.linear_memory_bytes - before(m, i).heap.linear_memory_bytes) : 0);

// One line per server: RSS after warm-up and after each pass with the pass's growth, and beside
// it the memory the isolate itself can account for (wasm linear memory, our live heap, JS values
// held by the glue, the isolate's V8 heap in use).
export function passLines(name, m) {
  const at = (r, label) => `${label} ${mib(r.rss)} MiB` + (r.heap ? ` [linear ${mib(r.heap.linear_memory_bytes)} MiB, live ${kib(r.heap.live_bytes)} KiB, JS values ${r.heap.js_values_live}]` : "") + ` [JS heap ${r.js ? mib(r.js.used) : "?"} MiB]`;
  const g = growths(m);
  return [
    `${name}: ${at(m.warm, "after warm-up")}`,
    ...m.passes.map((p, i) => `${name}: ${at(p, `after pass ${i + 1}`)}, growth in the pass ${signed(mib(g[i]))} MiB`),
    ...(g.length > 1 ? [`${name}: growth per pass ${g.map((x) => signed(mib(x))).join(", ")} MiB (last/first ${r1(g.at(-1) / g[0])})`] : []),
  ];
}

// Our heap after the last pass vs after warm-up, on the same instance of the module.
export function heapCheck(m, requests) {
  const JS_VALUES_MARGIN = Math.round(requests * JS_VALUES_PER_REQUEST);
  const [w, a] = [m.warm.heap, m.passes.at(-1).heap];
  const same = w.instance_started_ms === a.instance_started_ms;
  const figures = `live ${kib(w.live_bytes)} → ${kib(a.live_bytes)} KiB (${signed(kib(a.live_bytes - w.live_bytes))} KiB); ` +
    `peak live ${mib(a.peak_live_bytes)} MiB; linear memory ${mib(w.linear_memory_bytes)} → ${mib(a.linear_memory_bytes)} MiB; ` +
    // The allocator's total is a wasm32 usize: it wraps every 4 GiB, so the difference is modulo that.
    `${mib((((a.allocated_bytes_total - w.allocated_bytes_total) % 2 ** 32) + 2 ** 32) % 2 ** 32)} MiB (mod 4 GiB) allocated meanwhile; ` +
    `JS values held by the glue ${w.js_values_live} → ${a.js_values_live}${same ? "" : "; MODULE RE-CREATED between the readings"}`;
  const jsKept = (a.js_values_live ?? 0) <= (w.js_values_live ?? 0) + JS_VALUES_MARGIN;
  return check(same && a.live_bytes <= w.live_bytes + HEAP_MARGIN && jsKept, `our heap after the last pass ≤ after warm-up + ${HEAP_MARGIN >> 20} MiB, and JS values held ≤ after warm-up + ${JS_VALUES_MARGIN} (no leak in our code)`, figures);
}

// The issue's check, with every pass before the last counted as warm-up: our workerd's RSS after
// the last pass ≤ RSS_FACTOR × after the one before it (after warm-up when there is one pass).
export function rssRatioCheck(studio, control) {
  const ratio = (m) => m.passes.at(-1).rss / before(m, m.passes.length - 1).rss;
  const from = studio.passes.length > 1 ? `after pass ${studio.passes.length - 1}` : "after warm-up";
  const figures = `studio ${mib(before(studio, studio.passes.length - 1).rss)} → ${mib(studio.passes.at(-1).rss)} MiB (${ratio(studio).toFixed(2)}×)` +
    (control ? `; control ${mib(before(control, control.passes.length - 1).rss)} → ${mib(control.passes.at(-1).rss)} MiB (${ratio(control).toFixed(2)}×)` : "");
  return check(ratio(studio) <= RSS_FACTOR, `workerd RSS after the last pass ≤ ${RSS_FACTOR} × ${from} (the issue's bound, earlier passes as warm-up)`, figures);
}

// Growth in the last pass, ours vs the control's under the same mix: a leak repeats every pass,
// the runtime's own growth is what the control shows, and our wasm high-water mark may rise
// (resident, capped at 128 MiB, judged by the heap check) without being a leak.
export function rssGrowthCheck(studio, control) {
  const last = studio.passes.length - 1, [gs, gc] = [growths(studio).at(-1), growths(control).at(-1)];
  const linear = linearGrowth(studio, last);
  const allowed = RSS_FACTOR * Math.max(0, gc) + RSS_NOISE + linear;
  const figures = `studio ${signed(mib(gs))} MiB, control ${signed(mib(gc))} MiB; allowed ${signed(mib(allowed))} MiB ` +
    `(= ${RSS_FACTOR} × ${mib(Math.max(0, gc))} + ${RSS_NOISE >> 20} + linear-memory growth ${mib(linear)})`;
  return check(gs <= allowed, `workerd RSS growth in the last pass ≤ the control's × ${RSS_FACTOR} + ${RSS_NOISE >> 20} MiB + our linear-memory growth (no growth per pass beyond the runtime's)`, figures);
}
