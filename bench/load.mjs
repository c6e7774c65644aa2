// Load: mixed requests from many concurrent clients against one `wrangler dev` (issue 13,
// "Faults and load"), checking that load costs nothing but time, and that it leaks nothing.
//
//   node bench/load.mjs [--requests 10000] [--passes 1] [--clients 50] [--subscribers 100]
//                       [--tenants 10] [--warmup 1000] [--via worker|proxy] [--seed 1] [--control 1]
//                       (`bash scripts/bench.sh load`)
//
// The mix (bench/load-mix.mjs), seeded: uploads (small PNGs, distinct bytes), task creation (1–3
// of a client's images, short chains), status polls, listings of images and tasks, downloads of
// finished tasks, and, spread evenly over each pass, WebSocket subscribers on a client's newest
// task (`links.ws`, since=0, read to the 1000 close). Clients are spread over tenants (client i is
// tenant i mod T) and the run raises RATE_LIMIT_PER_MINUTE above what any tenant spends in the
// whole run (checked), so a 429 would be a refusal within the limit. A warm-up of the same mix
// comes first, then `--passes` measured passes of `--requests` each, back to back on the same
// server: the same clients go on drawing from their seeded streams, so every pass is new
// requests of the same mix (and the same passes go to the control). After each phase every task
// is awaited to its end (untimed) and the memory is read once it has settled (below).
//
// Memory, two questions kept apart (docs/RELIABILITY.md, "Load"; the checks: bench/load-memory.mjs):
// - Our heap: the Worker's allocator counts live bytes (`GET /__bench/memory`, dev-only behind
//   BENCH_ROUTES). After the last pass they must be back within HEAP_MARGIN of after warm-up: the
//   leak test for our code, which workerd's RSS cannot be (the local runtime grows on its own).
// - workerd's RSS: the issue's bound (after the run ≤ 1.2 × after warm-up), with the passes
//   before the last counted as warm-up; and the growth of the last pass beside the growth a
//   plain-JS control Worker (bench/control/, its own `wrangler dev`, same mix and seed) shows in
//   its last pass. Bounded warm-up growth (caches, compiled code, heap steps) shrinks from pass to
//   pass; a leak repeats every pass.
// Prints PASS/FAIL per check with its figures, throughput and p50/p99 per route; exit 1 on a FAIL.
// Writes bench/load-results.json.

import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { call, drain, makeClient, phase, r1, settleSubscribers } from "./load-mix.mjs";
import { check, heapCheck, kib, mib, passLines, rssGrowthCheck, rssRatioCheck } from "./load-memory.mjs";
import { isolateJsHeap, mintToken, onExitStopServers, serverRss, startServer, stopServer, workerPort } from "./server.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const RATE_LIMIT = 1_000_000;
// Memory is read once it stops moving: every SETTLE_MS, until the last SETTLE_READS readings of
// RSS lie within SETTLE_RSS bytes and live bytes within SETTLE_HEAP (objects idle out, finalizers
// free their Rust halves), or SETTLE_DEADLINE_MS passed (then the last reading, flagged).
const SETTLE_MS = 2000, SETTLE_READS = 5, SETTLE_RSS = 2 << 20, SETTLE_HEAP = 64 << 10, SETTLE_DEADLINE_MS = 120_000;
const log = (...a) => console.error("[load]", ...a);

function parseArgs(argv) {
  const opts = { requests: 10_000, passes: 1, clients: 50, subscribers: 100, tenants: 10, warmup: 1000, via: "worker", seed: 1, control: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, ""), v = argv[i + 1];
    const ok = key === "via" ? ["worker", "proxy"].includes(v) : key in opts && Number.isInteger(Number(v)) && Number(v) >= (key === "passes" ? 1 : 0);
    if (!ok) throw new Error("usage: node bench/load.mjs [--requests N] [--passes N≥1] [--clients N] [--subscribers N] [--tenants N] [--warmup N] [--via worker|proxy] [--seed N] [--control 0|1]");
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

// One Worker under the mix: warm-up, memory, then each pass and memory. `extraArgs` picks the Worker.
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
    const memory = { warm: await settled(target), passes: [] };
    logMemory(name, "after warm-up", memory.warm, heap);
    const passes = [];
    for (let p = 1; p <= opts.passes; p++) {
      const run = await phase(`${name} pass ${p}`, clients, opts.requests, opts.subscribers, all);
      await drain(all);
      await settleSubscribers(run.subs);
      memory.passes.push(await settled(target));
      logMemory(name, `after pass ${p}`, memory.passes.at(-1), heap);
      passes.push({ seconds: run.seconds, routes: run.stats.table(run.seconds), subs: run.subs, problems: run.stats.problems });
    }
    const spent = {};
    for (const c of clients) spent[c.tenant] = (spent[c.tenant] ?? 0) + c.spent;
    const subs = passes.flatMap((p) => p.subs);
    return {
      name, passes: passes.map(({ seconds, routes }) => ({ seconds, routes })), tasks: all.tasks.length, uploads: all.uploads, spent,
      subscribers: subs.length, badSubs: subs.filter((s) => s.problem).map((s) => `${s.task}: ${s.problem}`),
      problems: [...warm.stats.problems, ...passes.flatMap((p) => p.problems)], failedTasks: all.tasks.filter((t) => t.final !== "succeeded").map((t) => `${t.id}: ${t.final}`),
      memory,
    };
  } finally {
    await stopServer(server);
  }
}

function logMemory(name, when, m, heap) {
  log(`${name} ${when}: workerd RSS ${mib(m.rss)} MiB${heap ? `, live heap ${kib(m.heap.live_bytes)} KiB` : ""}, ${jsHeap(m.js)} (settled in ${m.waited_s} s)`);
}

// The isolate's V8 heap as the inspector reports it (diagnostic: where RSS growth is not).
const jsHeap = (js) => (js ? `isolate JS heap ${mib(js.used)} MiB used (embedder ${mib(js.embedder ?? 0)}, array buffers ${mib(js.backing ?? 0)})` : "isolate JS heap not available");

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
  const readings = [studio, control].filter(Boolean).flatMap((t) => [t.memory.warm, ...t.memory.passes]);
  const checks = [
    check(studio.problems.length === 0, "no 5xx, 429 or network error", list(studio.problems)),
    check(studio.failedTasks.length === 0, `every task succeeded (${studio.tasks})`, `not succeeded: ${list(studio.failedTasks)}`),
    check(studio.badSubs.length === 0 && studio.subscribers >= opts.subscribers * opts.passes, `${opts.subscribers * opts.passes} subscribers, each gap-free to its terminal event`, `${studio.subscribers} opened; broken: ${list(studio.badSubs)}`),
    check(mostSpent < RATE_LIMIT, `no tenant spent beyond RATE_LIMIT_PER_MINUTE (${RATE_LIMIT})`, `most one tenant spent: ${mostSpent}`),
    heapCheck(studio.memory, opts.requests * opts.passes),
    rssRatioCheck(studio.memory, control?.memory),
    ...(control
      ? [
          check(control.problems.length === 0 && control.failedTasks.length === 0 && control.badSubs.length === 0, "the control served the same mix without an error (its growth is a fair yardstick)", `${control.tasks} tasks, ${control.subscribers} subscribers; problems: ${list([...control.problems, ...control.failedTasks, ...control.badSubs])}`),
          rssGrowthCheck(studio.memory, control.memory),
        ]
      : [check(false, "workerd RSS growth vs the control", "not measured (--control 0)")]),
    check(readings.every((r) => r.settled), "every memory reading settled before it was taken", [studio, control].filter(Boolean).map((t) => `${t.name} ${[t.memory.warm, ...t.memory.passes].map((r) => r.waited_s).join(" / ")} s`).join(", ")),
  ];
  const rate = (t) => t.passes.map((p) => r1(opts.requests / p.seconds)).join(", ");
  const bytesOf = (t) => t.passes.at(-1).routes.find((r) => r.route.includes("download"))?.response_bytes ?? 0;
  const lines = [
    `the last pass (studio):`, ...routeTable(studio.passes.at(-1).routes), "",
    `studio: ${opts.passes} × ${opts.requests} requests (+${opts.subscribers} WebSocket subscribers each) from ${opts.clients} clients; req/s per pass: ${rate(studio)}; ${studio.tasks} tasks, ${studio.uploads} uploads in all (warm-up included)`,
    ...(control ? [`control (plain JS, same mix): req/s per pass: ${rate(control)}; ${control.tasks} tasks, ${control.uploads} uploads; downloads in the last pass ${bytesOf(control)} bytes vs the studio's ${bytesOf(studio)}`] : []),
    ...passLines("studio", studio.memory), ...(control ? passLines("control", control.memory) : []),
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
