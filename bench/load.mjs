// Load: mixed requests from many concurrent clients against one `wrangler dev` (issue 13,
// "Faults and load"), checking that load costs nothing but time, and that it leaks nothing.
//
//   node bench/load.mjs [--requests 10000] [--clients 50] [--subscribers 100] [--tenants 10]
//                       [--warmup 1000] [--via worker|proxy] [--seed 1] [--control 1]
//                       (`bash scripts/bench.sh load`)
//
// The mix (bench/load-mix.mjs), seeded: uploads (small PNGs, distinct bytes), task creation (1–3
// of a client's images, short chains), status polls, listings of images and tasks, downloads of
// finished tasks, and, spread evenly over the run, WebSocket subscribers on a client's newest task
// (`links.ws`, since=0, read to the 1000 close). Clients are spread over tenants (client i is
// tenant i mod T) and the run raises RATE_LIMIT_PER_MINUTE above what any tenant spends in the
// whole run (checked), so a 429 would be a limiter refusing within its limit. A warm-up phase of
// the same mix comes first; after each phase every task is awaited to its end (untimed) and the
// memory is read once it has settled (below).
//
// Memory, two questions kept apart (docs/RELIABILITY.md, "Load"):
// - Our heap: the Worker's allocator counts live bytes (`GET /__bench/memory`, dev-only behind
//   BENCH_ROUTES). After the run they must be back within HEAP_MARGIN of after warm-up: the leak
//   test for our code, which workerd's RSS cannot be (the local runtime grows on its own).
// - The runtime: the same mix, same seed, is then sent to a plain-JS control Worker
//   (bench/control/) in its own `wrangler dev`, and the growth of each workerd's RSS from warm-up
//   to after the run is compared: ours ≤ the control's × RSS_FACTOR + RSS_NOISE + the growth of our
//   wasm linear memory (a higher high-water mark is resident but not a leak; the heap check
//   judges leaks).
// Prints PASS/FAIL per check with its figures, throughput and p50/p99 per route; exit 1 on a FAIL.
// Writes bench/load-results.json.

import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { call, drain, makeClient, phase, r1, settleSubscribers } from "./load-mix.mjs";
import { isolateJsHeap, mintToken, onExitStopServers, serverRss, startServer, stopServer, workerPort } from "./server.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const RATE_LIMIT = 1_000_000;
const RSS_FACTOR = 1.2;
const RSS_NOISE = 32 << 20;
const HEAP_MARGIN = 1 << 20;
// JS values the glue may hold for Rust beyond warm-up's, per request of the run: the count moves
// with how many objects (each holding its state and storage handles) are alive in the isolate
// when it is read (+28 and +72 in two 3,000-request runs), while a leak of one value per
// request, per task or per upload grows by at least a tenth of the requests.
const JS_VALUES_PER_REQUEST = 1 / 20;
// Memory is read once it stops moving: every SETTLE_MS, until the last SETTLE_READS readings of
// RSS lie within SETTLE_RSS bytes and live bytes within SETTLE_HEAP (objects idle out, finalizers
// free their Rust halves), or SETTLE_DEADLINE_MS passed (then the last reading, flagged).
const SETTLE_MS = 2000, SETTLE_READS = 5, SETTLE_RSS = 2 << 20, SETTLE_HEAP = 64 << 10, SETTLE_DEADLINE_MS = 120_000;
const log = (...a) => console.error("[load]", ...a);
const mib = (b) => r1(b / 2 ** 20);
const kib = (b) => r1(b / 1024);

function parseArgs(argv) {
  const opts = { requests: 10_000, clients: 50, subscribers: 100, tenants: 10, warmup: 1000, via: "worker", seed: 1, control: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, ""), v = argv[i + 1];
    const ok = key === "via" ? ["worker", "proxy"].includes(v) : key in opts && Number.isInteger(Number(v)) && Number(v) >= 0;
    if (!ok) throw new Error("usage: node bench/load.mjs [--requests N] [--clients N] [--subscribers N] [--tenants N] [--warmup N] [--via worker|proxy] [--seed N] [--control 0|1]");
    opts[key] = key === "via" ? v : Number(v);
  }
  return opts;
}

// The Worker's own view of its memory, or null for the control (which has no such route).
async function heapOf(target) {
  if (!target.heap) return null;
  const { status, json } = await call(target.clients[0], null, "", "GET", "/__bench/memory");
  if (status !== 200) throw new Error(`GET /__bench/memory: ${status} ${JSON.stringify(json)}`);
  return json;
}

async function settled(target) {
  const t0 = Date.now(), reads = [];
  for (;;) {
    reads.push({ rss: serverRss(target.server).worker, heap: await heapOf(target) });
    const last = reads.slice(-SETTLE_READS), spread = (f) => Math.max(...last.map(f)) - Math.min(...last.map(f));
    const still = last.length === SETTLE_READS && spread((r) => r.rss) <= SETTLE_RSS && (!target.heap || spread((r) => r.heap.live_bytes) <= SETTLE_HEAP);
    if (still || Date.now() - t0 > SETTLE_DEADLINE_MS) {
      return { ...reads.at(-1), js: await isolateJsHeap(target.server), settled: still, waited_s: r1((Date.now() - t0) / 1000) };
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS)); // the interval between readings of the condition above
  }
}

// One Worker under the mix: warm-up, memory, the run, memory. `extraArgs` picks the Worker.
async function runTarget(name, opts, { heap, extraArgs = [] }) {
  const server = await startServer({ RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) }, extraArgs);
  try {
    const port = opts.via === "worker" ? await workerPort(server) : server.port;
    log(`${name}: ${opts.clients} clients over ${opts.tenants} tenants via ${opts.via} (port ${port})`);
    const tokens = Object.fromEntries([...Array(opts.tenants)].map((_, t) => [`load-${t}`, mintToken(`load-${t}`)]));
    const clients = [...Array(opts.clients)].map((_, i) => makeClient(i, opts, tokens, port));
    const target = { name, server, clients, heap }, all = { uploads: 0, tasks: [] };
    const warm = await phase(`${name} warm-up`, clients, opts.warmup, 0, all);
    await drain(all);
    const memWarm = await settled(target);
    log(`${name} after warm-up: workerd RSS ${mib(memWarm.rss)} MiB${heap ? `, live heap ${kib(memWarm.heap.live_bytes)} KiB` : ""}, ${jsHeap(memWarm.js)} (settled in ${memWarm.waited_s} s)`);
    const run = await phase(`${name} run`, clients, opts.requests, opts.subscribers, all);
    await drain(all);
    await settleSubscribers(run.subs);
    const memAfter = await settled(target);
    log(`${name} after the run: workerd RSS ${mib(memAfter.rss)} MiB${heap ? `, live heap ${kib(memAfter.heap.live_bytes)} KiB` : ""}, ${jsHeap(memAfter.js)} (settled in ${memAfter.waited_s} s)`);
    const spent = {};
    for (const c of clients) spent[c.tenant] = (spent[c.tenant] ?? 0) + c.spent;
    return {
      name, seconds: run.seconds, routes: run.stats.table(run.seconds), tasks: all.tasks.length, uploads: all.uploads, spent,
      subscribers: run.subs.length, badSubs: run.subs.filter((s) => s.problem).map((s) => `${s.task}: ${s.problem}`),
      problems: [...warm.stats.problems, ...run.stats.problems], failedTasks: all.tasks.filter((t) => t.final !== "succeeded").map((t) => `${t.id}: ${t.final}`),
      memory: { warm: memWarm, after: memAfter },
    };
  } finally {
    await stopServer(server);
  }
}

const check = (ok, what, figures) => ({ ok, what, figures });

const jsUsed = (m) => (m.js ? mib(m.js.used) : "?");
// The isolate's V8 heap as the inspector reports it (diagnostic: where RSS growth is not).
const jsHeap = (js) => (js ? `isolate JS heap ${mib(js.used)} MiB used (embedder ${mib(js.embedder ?? 0)}, array buffers ${mib(js.backing ?? 0)})` : "isolate JS heap not available");

// Our heap after the run vs after warm-up, on the same instance of the module.
function heapCheck(studio, requests) {
  const JS_VALUES_MARGIN = Math.round(requests * JS_VALUES_PER_REQUEST);
  const [w, a] = [studio.memory.warm.heap, studio.memory.after.heap];
  const same = w.instance_started_ms === a.instance_started_ms;
  const figures = `live ${kib(w.live_bytes)} → ${kib(a.live_bytes)} KiB (${a.live_bytes - w.live_bytes >= 0 ? "+" : ""}${kib(a.live_bytes - w.live_bytes)} KiB); ` +
    `peak live ${mib(a.peak_live_bytes)} MiB; linear memory ${mib(w.linear_memory_bytes)} → ${mib(a.linear_memory_bytes)} MiB; ` +
    // The allocator's total is a wasm32 usize: it wraps every 4 GiB, so the difference is modulo that.
    `${mib((((a.allocated_bytes_total - w.allocated_bytes_total) % 2 ** 32) + 2 ** 32) % 2 ** 32)} MiB (mod 4 GiB) allocated during the run; ` +
    `JS values held by the glue ${w.js_values_live} → ${a.js_values_live}${same ? "" : "; MODULE RE-CREATED between the readings"}`;
  const jsKept = (a.js_values_live ?? 0) <= (w.js_values_live ?? 0) + JS_VALUES_MARGIN;
  return check(same && a.live_bytes <= w.live_bytes + HEAP_MARGIN && jsKept, `our heap after the run ≤ after warm-up + ${HEAP_MARGIN >> 20} MiB, and JS values held ≤ after warm-up + ${JS_VALUES_MARGIN} (no leak in our code)`, figures);
}

// workerd's RSS growth beyond warm-up: ours vs the control's under the same mix.
function rssCheck(studio, control) {
  const grow = (t) => t.memory.after.rss - t.memory.warm.rss;
  const linear = Math.max(0, studio.memory.after.heap.linear_memory_bytes - studio.memory.warm.heap.linear_memory_bytes);
  const allowed = RSS_FACTOR * Math.max(0, grow(control)) + RSS_NOISE + linear;
  const figures = `studio ${mib(studio.memory.warm.rss)} → ${mib(studio.memory.after.rss)} MiB (+${mib(grow(studio))}); ` +
    `control ${mib(control.memory.warm.rss)} → ${mib(control.memory.after.rss)} MiB (+${mib(grow(control))}); allowed +${mib(allowed)} MiB ` +
    `(= ${RSS_FACTOR} × ${mib(Math.max(0, grow(control)))} + ${RSS_NOISE >> 20} + linear-memory growth ${mib(linear)}); ` +
    `isolate JS heap used: studio ${jsUsed(studio.memory.warm)} → ${jsUsed(studio.memory.after)} MiB, control ${jsUsed(control.memory.warm)} → ${jsUsed(control.memory.after)} MiB`;
  return check(grow(studio) <= allowed, `workerd RSS growth beyond warm-up ≤ control's × ${RSS_FACTOR} + ${RSS_NOISE >> 20} MiB + our linear-memory growth`, figures);
}

function routeTable(rows) {
  return [
    `| route | requests | req/s | p50 ms | p99 ms | max ms | response bytes | statuses |`, `|---|---:|---:|---:|---:|---:|---:|---|`,
    ...rows.map((r) => `| ${r.route} | ${r.requests} | ${r.per_s} | ${r.p50_ms} | ${r.p99_ms} | ${r.max_ms} | ${r.response_bytes} | ${Object.entries(r.status).map(([s, n]) => `${s}×${n}`).join(" ")} |`),
  ];
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  onExitStopServers(log);
  log(`RATE_LIMIT_PER_MINUTE=${RATE_LIMIT}; load average ${os.loadavg().map(r1).join(" / ")} at the start`);
  const studio = await runTarget("studio", opts, { heap: true });
  const control = opts.control ? await runTarget("control", opts, { heap: false, extraArgs: ["--config", "bench/control/wrangler.toml"] }) : null;
  const mostSpent = Math.max(...Object.values(studio.spent));
  const list = (bad) => (bad.length ? `${bad.length}: ${bad.slice(0, 5).join("; ")}` : "none");
  const checks = [
    check(studio.problems.length === 0, "no 5xx, 429 or network error", list(studio.problems)),
    check(studio.failedTasks.length === 0, `every task succeeded (${studio.tasks})`, `not succeeded: ${list(studio.failedTasks)}`),
    check(studio.badSubs.length === 0 && studio.subscribers >= opts.subscribers, `${opts.subscribers} subscribers, each gap-free to its terminal event`, `${studio.subscribers} opened; broken: ${list(studio.badSubs)}`),
    check(mostSpent < RATE_LIMIT, `no tenant spent beyond RATE_LIMIT_PER_MINUTE (${RATE_LIMIT})`, `most one tenant spent: ${mostSpent}`),
    heapCheck(studio, opts.requests),
    ...(control
      ? [
          check(control.problems.length === 0 && control.failedTasks.length === 0 && control.badSubs.length === 0, "the control served the same mix without an error (its growth is a fair yardstick)", `${control.tasks} tasks, ${control.subscribers} subscribers; problems: ${list([...control.problems, ...control.failedTasks, ...control.badSubs])}`),
          rssCheck(studio, control),
        ]
      : [check(false, "workerd RSS growth vs the control", "not measured (--control 0)")]),
    check(studio.memory.warm.settled && studio.memory.after.settled && (!control || (control.memory.warm.settled && control.memory.after.settled)), "every memory reading settled before it was taken", [studio, control].filter(Boolean).map((t) => `${t.name} ${t.memory.warm.waited_s} s / ${t.memory.after.waited_s} s`).join(", ")),
  ];
  const lines = [
    ...routeTable(studio.routes), "",
    `studio: ${opts.requests} requests (+${studio.subscribers} WebSocket subscribers) from ${opts.clients} clients in ${r1(studio.seconds)} s: ${r1(opts.requests / studio.seconds)} req/s; ${studio.tasks} tasks, ${studio.uploads} uploads in all`,
    ...(control ? [`control (plain JS, same mix): ${r1(opts.requests / control.seconds)} req/s; ${control.tasks} tasks, ${control.uploads} uploads; downloads ${control.routes.find((r) => r.route.includes("download"))?.response_bytes ?? 0} bytes vs the studio's ${studio.routes.find((r) => r.route.includes("download"))?.response_bytes ?? 0}`] : []),
    `(for reference, the old check: studio RSS after/warm-up ${r1(studio.memory.after.rss / studio.memory.warm.rss)}×${control ? `, control ${r1(control.memory.after.rss / control.memory.warm.rss)}×` : ""})`,
    ...checks.map((c) => `${c.ok ? "PASS" : "FAIL"} ${c.what}: ${c.figures}`),
    `machine: ${os.cpus().length} cores, load average ${os.loadavg().map(r1).join(" / ")} (1/5/15 min) at the end`,
  ];
  console.log(lines.join("\n"));
  const result = { date: new Date().toISOString(), cores: os.cpus().length, load_average: os.loadavg().map(r1), opts, rate_limit_per_minute: RATE_LIMIT, studio, control, checks };
  writeFileSync(path.join(benchDir, "load-results.json"), JSON.stringify(result, null, 2) + "\n");
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
}

main().catch((e) => {
  log(e.stack ?? e);
  process.exit(1);
});
