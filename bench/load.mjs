// Load: mixed requests from many concurrent clients against one `wrangler dev` (issue 13,
// "Faults and load"), checking that load costs nothing but time.
//
//   node bench/load.mjs [--requests 10000] [--clients 50] [--subscribers 100] [--tenants 10]
//                       [--warmup 1000] [--via worker|proxy] [--seed 1]   (`bash scripts/bench.sh load`)
//
// Each client loops over requests drawn (seeded) from a mix: uploads (small PNGs, distinct
// bytes), task creation (1–3 of its images, short chains), status polls, listings of images and
// tasks, downloads of its finished tasks, and — spread evenly over the run — WebSocket
// subscribers on its newest task (signed `links.ws`, since=0, read to the 1000 close). Clients are
// spread over tenants (client i is tenant i mod T) and the run raises RATE_LIMIT_PER_MINUTE above
// what any tenant spends in the whole run (checked), so a 429 would be a limiter refusing within
// its limit. A warm-up phase of the same mix comes first; after each phase every task is awaited
// to its end (untimed), then the RSS of the workerd running the Worker is read.
// Fails (exit 1) on: any 5xx or network error, any 429, a task not `succeeded`, a subscriber's
// stream with a gap, repeat or no terminal event, RSS after the run > 1.2 × after warm-up.
// Prints throughput and p50/p99 per route; writes bench/load-results.json.

import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { mintToken, onExitStopServers, serverRss, startServer, stopServer, workerPort } from "./server.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const RATE_LIMIT = 1_000_000;
const MEMORY_RATIO = 1.2;
const TERMINAL = new Set(["task.succeeded", "task.failed", "task.cancelled"]);
const ENDED = new Set(["succeeded", "failed", "cancelled"]);
const log = (...a) => console.error("[load]", ...a);
// Weighted mix of the clients' requests (subscribers are extra, spread evenly).
const MIX = [["upload", 10], ["create", 10], ["poll", 35], ["list_images", 7], ["list_tasks", 8], ["download", 30]];

function parseArgs(argv) {
  const opts = { requests: 10_000, clients: 50, subscribers: 100, tenants: 10, warmup: 1000, via: "worker", seed: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, ""), v = argv[i + 1];
    const ok = key === "via" ? ["worker", "proxy"].includes(v) : key in opts && Number.isInteger(Number(v)) && Number(v) >= 0;
    if (!ok) throw new Error("usage: node bench/load.mjs [--requests N] [--clients N] [--subscribers N] [--tenants N] [--warmup N] [--via worker|proxy] [--seed N]");
    opts[key] = key === "via" ? v : Number(v);
  }
  return opts;
}

// mulberry32: a small seeded PRNG, so two runs send the same mix.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

// A w×h RGB PNG whose pixels derive from `n` (distinct bytes per upload: no result reuse).
function png(w, h, n) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const head = Buffer.alloc(4), crc = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0), ihdr.writeUInt32BE(h, 4), ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set([(x * 7 + n) & 255, (y * 5 + (n >> 8)) & 255, (x ^ y ^ n) & 255], y * (w * 3 + 1) + 1 + x * 3);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : null);
const r1 = (x) => (x == null ? null : Math.round(x * 10) / 10);

class Stats {
  constructor() {
    this.routes = new Map();
    this.problems = [];
  }
  add(route, status, ms) {
    const r = this.routes.get(route) ?? { ms: [], status: {} };
    this.routes.set(route, r);
    r.ms.push(ms);
    r.status[status] = (r.status[status] ?? 0) + 1;
    if (status === "error" || status >= 500 || status === 429) this.problems.push(`${route}: ${status}`);
  }
  table(seconds) {
    const rows = [...this.routes].map(([route, r]) => {
      const ms = [...r.ms].sort((a, b) => a - b);
      return { route, requests: ms.length, per_s: r1(ms.length / seconds), p50_ms: r1(pct(ms, 50)), p99_ms: r1(pct(ms, 99)), max_ms: r1(ms.at(-1)), status: r.status };
    });
    return rows.sort((a, b) => b.requests - a.requests);
  }
}

function makeClient(i, opts, tokens, port) {
  const tenant = `load-${i % opts.tenants}`;
  return { i, tenant, token: tokens[tenant], base: `http://127.0.0.1:${port}`, port, rand: rng(opts.seed * 1000 + i), images: [], tasks: [], done: [], spent: 0 };
}

async function call(c, stats, route, method, url, { body, type, cost = 1 } = {}) {
  c.spent += cost;
  const t0 = performance.now();
  try {
    const res = await fetch(c.base + url, { method, body, headers: { authorization: `Bearer ${c.token}`, ...(type ? { "content-type": type } : {}) }, signal: AbortSignal.timeout(60_000) });
    const buf = await res.arrayBuffer();
    stats?.add(route, res.status, performance.now() - t0);
    const json = (res.headers.get("content-type") ?? "").includes("json") ? JSON.parse(Buffer.from(buf).toString("utf8")) : null;
    return { status: res.status, json };
  } catch (e) {
    stats?.add(route, "error", performance.now() - t0);
    return { status: "error", json: { error: e.message } };
  }
}

const pick = (c, xs) => xs[Math.floor(c.rand() * xs.length)];

async function act(c, stats, all) {
  const total = MIX.reduce((s, [, w]) => s + w, 0);
  let roll = c.rand() * total, kind = MIX.find(([, w]) => (roll -= w) < 0)[0];
  if (kind !== "upload" && c.images.length === 0) kind = "upload";
  if (kind === "poll" && c.tasks.length === 0) kind = "create";
  if (kind === "download" && c.done.length === 0) kind = c.tasks.length ? "poll" : "create";
  if (kind === "upload") {
    const { status, json } = await call(c, stats, "POST /images", "POST", "/images", { body: png(16 + Math.floor(c.rand() * 240), 16 + Math.floor(c.rand() * 180), all.uploads++), type: "image/png", cost: 5 });
    if (status === 201) c.images.push(json.id);
  } else if (kind === "create") {
    const images = [...new Set([pick(c, c.images), pick(c, c.images), pick(c, c.images)].slice(0, 1 + Math.floor(c.rand() * 3)))];
    const steps = [{ op: "resize", width: 8 + Math.floor(c.rand() * 64) }, ...(c.rand() < 0.5 ? [{ op: "grayscale" }] : []), { op: "encode", format: pick(c, ["png", "jpeg", "webp"]) }];
    const { status, json } = await call(c, stats, "POST /tasks", "POST", "/tasks", { body: JSON.stringify({ images, steps }), type: "application/json", cost: Math.max(5, images.length * steps.length) });
    if (status === 202) c.tasks.push(json), all.tasks.push({ c, id: json.id });
  } else if (kind === "poll") {
    const task = pick(c, c.tasks);
    const { status, json } = await call(c, stats, "GET /tasks/{id}", "GET", `/tasks/${task.id}`);
    if (status === 200 && json.status === "succeeded" && !c.done.includes(task.id)) c.done.push(task.id);
  } else if (kind === "list_images") {
    await call(c, stats, "GET /images", "GET", "/images?limit=20");
  } else if (kind === "list_tasks") {
    await call(c, stats, "GET /tasks", "GET", c.rand() < 0.5 ? "/tasks?limit=20" : "/tasks?limit=20&status=succeeded");
  } else {
    await call(c, stats, "GET /tasks/{id}/download", "GET", `/tasks/${pick(c, c.done)}/download`);
  }
}

// One subscriber: the task's events from since=0 to the server's 1000 close.
function subscribe(c, stats, task, subs) {
  const url = new URL(task.links.ws);
  url.host = `127.0.0.1:${c.port}`;
  url.searchParams.set("since", "0");
  c.spent += 1;
  const t0 = performance.now();
  const sub = { task: task.id, events: [], problem: null };
  subs.push(sub);
  sub.done = new Promise((resolve) => {
    const ws = new WebSocket(url.href);
    const fail = (why) => ((sub.problem ??= why), resolve());
    const timer = setTimeout(() => (fail("no close within 300 s"), ws.close()), 300_000);
    ws.onopen = () => stats.add("WS /tasks/{id}/ws (open)", 101, performance.now() - t0);
    ws.onmessage = (m) => {
      const e = JSON.parse(m.data);
      if (e.seq !== sub.events.length + 1) sub.problem ??= `seq ${e.seq} after ${sub.events.length} events`;
      sub.events.push(e);
    };
    ws.onerror = () => (ws.readyState === WebSocket.CONNECTING && stats.add("WS /tasks/{id}/ws (open)", "error", performance.now() - t0), fail("socket error"));
    ws.onclose = (e) => {
      clearTimeout(timer);
      if (e.code !== 1000 || !TERMINAL.has(sub.events.at(-1)?.type)) fail(`closed ${e.code} after ${sub.events.at(-1)?.type ?? "nothing"}`);
      resolve();
    };
  });
}

async function phase(name, clients, total, subscribers, all) {
  const stats = new Stats(), subs = [];
  const every = subscribers ? Math.max(1, Math.floor(total / subscribers)) : Infinity;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(clients.map(async (c) => {
    while (next < total) {
      const n = next++;
      if (n % every === 0 && subs.length < subscribers && c.tasks.length) subscribe(c, stats, c.tasks.at(-1), subs);
      else await act(c, stats, all);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(subs.map((s) => s.done));
  log(`${name}: ${total} requests in ${r1(seconds)} s (${r1(total / seconds)} req/s)`);
  return { stats, subs, seconds };
}

// Every task created so far, awaited to its end (untimed polls).
async function drain(all) {
  const deadline = Date.now() + 180_000;
  for (const t of all.tasks.filter((t) => !t.final)) {
    for (;;) {
      const { status, json } = await call(t.c, null, "", "GET", `/tasks/${t.id}`);
      if (status === 200 && ENDED.has(json.status)) {
        t.final = json.status;
        break;
      }
      if (Date.now() > deadline) throw new Error(`task ${t.id} not finished within 180 s of the phase's end: ${status} ${JSON.stringify(json)}`);
      await new Promise((r) => setTimeout(r, 100)); // poll interval inside the deadline loop
    }
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  onExitStopServers(log);
  const server = await startServer({ RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) });
  try {
    const port = opts.via === "worker" ? await workerPort(server) : server.port;
    log(`${opts.clients} clients over ${opts.tenants} tenants via ${opts.via} (port ${port}); RATE_LIMIT_PER_MINUTE=${RATE_LIMIT}`);
    const tokens = Object.fromEntries([...Array(opts.tenants)].map((_, t) => [`load-${t}`, mintToken(`load-${t}`)]));
    const clients = [...Array(opts.clients)].map((_, i) => makeClient(i, opts, tokens, port));
    const all = { uploads: 0, tasks: [] };
    const warm = await phase("warm-up", clients, opts.warmup, 0, all);
    await drain(all);
    const rssWarm = serverRss(server);
    log(`after warm-up: workerd RSS ${r1(rssWarm.worker / 2 ** 20)} MiB (proxy ${r1(rssWarm.proxy / 2 ** 20)} MiB)`);
    const run = await phase("run", clients, opts.requests, opts.subscribers, all);
    await drain(all);
    const rssAfter = serverRss(server);
    log(`after the run: workerd RSS ${r1(rssAfter.worker / 2 ** 20)} MiB (proxy ${r1(rssAfter.proxy / 2 ** 20)} MiB)`);

    const spent = {};
    for (const c of clients) spent[c.tenant] = (spent[c.tenant] ?? 0) + c.spent;
    const ratio = rssAfter.worker / rssWarm.worker;
    const failedTasks = all.tasks.filter((t) => t.final !== "succeeded").map((t) => `${t.id}: ${t.final}`);
    const badSubs = run.subs.filter((s) => s.problem).map((s) => `${s.task}: ${s.problem}`);
    const checks = {
      "no 5xx, 429 or network error": [...warm.stats.problems, ...run.stats.problems],
      "every task succeeded": failedTasks,
      [`${opts.subscribers} subscribers, each gap-free to its terminal event`]: [...badSubs, ...(run.subs.length < opts.subscribers ? [`only ${run.subs.length} opened`] : [])],
      [`no tenant spent beyond RATE_LIMIT_PER_MINUTE (${RATE_LIMIT})`]: Object.entries(spent).filter(([, s]) => s >= RATE_LIMIT).map(([t, s]) => `${t}: ${s}`),
      [`workerd RSS after the run ≤ ${MEMORY_RATIO}× after warm-up`]: ratio <= MEMORY_RATIO ? [] : [`${ratio.toFixed(2)}×`],
    };
    const table = run.stats.table(run.seconds);
    const lines = [
      `| route | requests | req/s | p50 ms | p99 ms | max ms | statuses |`, `|---|---:|---:|---:|---:|---:|---|`,
      ...table.map((r) => `| ${r.route} | ${r.requests} | ${r.per_s} | ${r.p50_ms} | ${r.p99_ms} | ${r.max_ms} | ${Object.entries(r.status).map(([s, n]) => `${s}×${n}`).join(" ")} |`),
      "", `${opts.requests} requests (+${run.subs.length} WebSocket subscribers) from ${opts.clients} clients in ${r1(run.seconds)} s: ${r1(opts.requests / run.seconds)} req/s; ${all.tasks.length} tasks, ${all.uploads} uploads in all`,
      `workerd RSS: ${r1(rssWarm.worker / 2 ** 20)} MiB after warm-up, ${r1(rssAfter.worker / 2 ** 20)} MiB after the run (${ratio.toFixed(2)}×); most tokens one tenant spent: ${Math.max(...Object.values(spent))}`,
      ...Object.entries(checks).map(([what, bad]) => `${bad.length ? "FAIL" : "ok  "} ${what}${bad.length ? `: ${bad.length} — ${bad.slice(0, 5).join("; ")}` : ""}`),
    ];
    lines.push(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map(r1).join(" / ")} (1/5/15 min) at the end`);
    console.log(lines.join("\n"));
    const result = { date: new Date().toISOString(), cores: os.cpus().length, load_average: os.loadavg().map(r1), opts, rate_limit_per_minute: RATE_LIMIT, seconds: r1(run.seconds), routes: table, rss_bytes: { warm: rssWarm, after: rssAfter, ratio }, spent, checks };
    writeFileSync(path.join(benchDir, "load-results.json"), JSON.stringify(result, null, 2) + "\n");
    if (Object.values(checks).some((bad) => bad.length)) process.exitCode = 1;
  } finally {
    await stopServer(server);
  }
}

main().catch((e) => {
  log(e.stack ?? e);
  process.exit(1);
});
