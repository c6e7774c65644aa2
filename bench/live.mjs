// Live-stream latency on `wrangler dev`: (1) event fan-out from one task's Durable
// Object to many WebSocket subscribers, (2) the orchestration overhead of one step (queue hop +
// object update + push) with a step whose work is ~0 ms.
//
//   node bench/live.mjs [--clients 1000] [--tasks 5]     (wired as `bash scripts/bench.sh live`)
//
// Latency is measured against the event's own `at`, which the object stamps right before it
// broadcasts; server and client share this machine's clock, so no skew to correct for.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import zlib from "node:zlib";
import { mintToken, onExitStopServers, servers, startServer, stopServer } from "./server.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
// Long chains (the limit is 32 steps): connecting 1,000 sockets takes seconds, during which the
// task's first events go out unmeasured.
const FANOUT_STEPS = [...Array(29).fill({ op: "grayscale" }), { op: "encode", format: "png" }];
const HOP_STEPS = [...Array(20).fill({ op: "grayscale" }), { op: "encode", format: "png" }];
const HOP_TASKS = 3; // 20 hops each: >= 50 hops
const CONNECT_BATCH = 100;
const TARGET = { fanoutP99: 100, overheadP50: 15 };
const log = (...a) => console.error("[bench]", ...a);

function parseArgs(argv) {
  const opts = { clients: 1000, tasks: 5 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in opts) || !Number.isInteger(Number(argv[i + 1])) || Number(argv[i + 1]) < 1) {
      throw new Error("usage: node bench/live.mjs [--clients 1000] [--tasks 5]");
    }
    opts[key] = Number(argv[i + 1]);
  }
  return opts;
}

// The queue consumer's batch wait: locally every hop waits for it (miniflare flushes a batch
// that is not full `max_batch_timeout` seconds after its first message).
function batchWaitMs() {
  const toml = readFileSync(path.join(benchDir, "../wrangler.toml"), "utf8");
  const block = toml.split("[[queues.consumers]]").slice(1).find((b) => /^queue\s*=\s*"stellar-studio-steps"$/m.test(b));
  const m = block?.match(/max_batch_timeout\s*=\s*([\d.]+)/);
  if (!m) throw new Error("wrangler.toml: no max_batch_timeout for the stellar-studio-steps consumer");
  return Number(m[1]) * 1000;
}

// A w×h single-colour RGB PNG; the colour makes each upload's bytes (and so its results) unique,
// so no task reuses an earlier task's stored results.
function png(w, h, rgb) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.from([0, 0, 0, w, 0, 0, 0, h, 8, 2, 0, 0, 0]); // 8-bit RGB, w,h < 256
  const row = Buffer.from([0, ...Array.from({ length: w }, () => rgb).flat()]); // filter 0
  const idat = zlib.deflateSync(Buffer.concat(Array(h).fill(row)));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", idat), chunk("IEND", Buffer.alloc(0))]);
}

let uploads = 0;
async function api(server, token, method, route, body, type = "application/json") {
  const res = await fetch(`http://127.0.0.1:${server.port}${route}`, { method, body, headers: { authorization: `Bearer ${token}`, "content-type": type } });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${route} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}
async function newTask(server, token, steps) {
  const n = ++uploads;
  const image = await api(server, token, "POST", "/images", png(2, 2, [n & 255, (n >> 8) & 255, 77]), "image/png");
  return api(server, token, "POST", "/tasks", JSON.stringify({ images: [image.id], steps }));
}

// One WebSocket that records, per message, its receipt time before anything else runs.
function subscribe(url, onEvent) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.closed = new Promise((r) => ws.addEventListener("close", (e) => r(e.code)));
    ws.addEventListener("open", () => resolve(ws));
    ws.addEventListener("error", () => reject(new Error(`WebSocket ${url.split("?")[0]} failed to open`)));
    ws.addEventListener("message", (m) => {
      const t = Date.now();
      onEvent(JSON.parse(m.data), t);
    });
  });
}

// CPU time (ms) used so far by the dev server's process group (npx, wrangler, workerd): with the
// client's own, it shows which side of the fan-out spends the time.
function groupCpuMs(pgid) {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").pop().split(" ");
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]); // utime + stime
    } catch {
      /* gone */
    }
  }
  return ticks * 10; // USER_HZ = 100 on Linux
}
const clientCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const withTimeout = (p, ms, what) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`${what}: no end within ${ms / 1000} s`)), ms).unref())]);
// Sorted once; no Math.max(...xs): 300,000 (client, event) pairs overflow the call stack.
const stats = (xs) => {
  const s = Float64Array.from(xs).sort();
  const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN);
  return { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s.length ? s[s.length - 1] : NaN };
};

// (1) Fan-out. The task starts running as soon as it exists (its first step waits ~1 batch
// timeout in the queue), so the clients connect while its first events go out: only events
// stamped after the last client was connected count, and each of those must reach every client.
async function fanout(server, token, clients, tasks) {
  const perEvent = [], pairs = [], first = [], spread = [], closes = {};
  let missing = 0, elu = 0, liveEvents = 0;
  const cpu = { client: 0, server: 0 };
  for (let t = 0; t < tasks; t++) {
    const task = await newTask(server, token, FANOUT_STEPS);
    const events = new Map(); // seq -> { at, receipts[] }
    const onEvent = (e, rx) => {
      let ev = events.get(e.seq);
      if (!ev) events.set(e.seq, (ev = { at: Date.parse(e.at), type: e.type, receipts: [] }));
      ev.receipts.push(rx);
    };
    const sockets = [];
    const c0 = Date.now();
    for (let i = 0; i < clients; i += CONNECT_BATCH) {
      const batch = Array.from({ length: Math.min(CONNECT_BATCH, clients - i) }, () => subscribe(task.links.ws, onEvent));
      sockets.push(...(await Promise.all(batch)));
    }
    const allConnected = Date.now();
    const elu0 = performance.eventLoopUtilization();
    const [client0, server0] = [clientCpuMs(), groupCpuMs(server.child.pid)];
    const codes = await withTimeout(Promise.all(sockets.map((s) => s.closed)), 180_000, `task ${task.id}`);
    elu += performance.eventLoopUtilization(elu0).utilization / tasks;
    cpu.client += clientCpuMs() - client0;
    cpu.server += groupCpuMs(server.child.pid) - server0;
    for (const c of codes) closes[c] = (closes[c] ?? 0) + 1;
    const live = [...events.values()].filter((e) => e.at >= allConnected);
    liveEvents += live.length;
    for (const e of live) {
      missing += clients - e.receipts.length;
      const lat = e.receipts.map((rx) => rx - e.at);
      pairs.push(...lat);
      perEvent.push(Math.max(...lat));
      first.push(Math.min(...lat));
      spread.push(Math.max(...e.receipts) - Math.min(...e.receipts));
    }
    log(`fan-out task ${t + 1}/${tasks}: ${clients} clients connected in ${allConnected - c0} ms, ${live.length} of ${events.size} events live`);
  }
  return { perEvent: stats(perEvent), pairs: stats(pairs), first: stats(first), spread: stats(spread), missing, closes,
    client_event_loop_utilization: elu,
    // CPU from "all connected" to "all closed" (incl. the steps' own work), per live event.
    cpu_ms_per_event: { client: cpu.client / liveEvents, server: cpu.server / liveEvents } };
}

// (2) Orchestration overhead: one subscriber, a long chain of near no-op steps on a 2×2 image.
async function hops(server, token, waitMs) {
  const hop = [], cycle = [], work = [];
  let retries = 0;
  for (let t = 0; t < HOP_TASKS; t++) {
    const task = await newTask(server, token, HOP_STEPS);
    const started = [], succeeded = [];
    const opened = Date.now();
    const ws = await subscribe(task.links.ws, (e, rx) => {
      if (Date.parse(e.at) < opened) return; // replayed, not live
      if (e.type === "step.started") started[e.step] = rx;
      if (e.type === "step.succeeded") (succeeded[e.step] = rx), work.push(e.duration_ms);
      if (e.type === "step.retrying") retries++;
    });
    const code = await withTimeout(ws.closed, 120_000, `task ${task.id}`);
    if (code !== 1000) throw new Error(`task ${task.id}: stream closed with ${code}`);
    for (let i = 1; i < HOP_STEPS.length; i++) {
      if (started[i] === undefined || succeeded[i - 1] === undefined) continue;
      hop.push(started[i] - succeeded[i - 1]);
      cycle.push(succeeded[i] - succeeded[i - 1]);
    }
    log(`hop task ${t + 1}/${HOP_TASKS}: ${hop.length} hops so far`);
  }
  return { hop: stats(hop), overhead: stats(hop.map((h) => h - waitMs)), cycle: stats(cycle), step_duration_ms: stats(work), retries };
}

async function main() {
  const { clients, tasks } = parseArgs(process.argv.slice(2));
  const waitMs = batchWaitMs();
  // The socket cap is MAX_SOCKETS_PER_STREAM (default 1000): raise it above the client count.
  const server = await startServer({ MAX_SOCKETS_PER_STREAM: String(clients + 100), RATE_LIMIT_PER_MINUTE: "100000000" });
  const token = mintToken("live-bench");
  log(`orchestration: ${HOP_TASKS} tasks of ${HOP_STEPS.length} steps, batch wait ${waitMs} ms`);
  const orch = await hops(server, token, waitMs);
  log(`fan-out: ${tasks} tasks × ${clients} clients`);
  const fan = await fanout(server, token, clients, tasks);
  await stopServer(server);

  const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
  const row = (name, s, target = "", met = "") => `| ${name} | ${s.n} | ${f(s.p50)} | ${f(s.p90)} | ${f(s.p99)} | ${f(s.max)} | ${target} | ${met} |`;
  const yes = (ok) => (ok ? "met" : "**NOT met**");
  const fanOk = fan.perEvent.p99 <= TARGET.fanoutP99 && fan.missing === 0;
  const orchOk = orch.overhead.p50 <= TARGET.overheadP50;
  const md = [
    "| measure (ms) | n | p50 | p90 | p99 | max | target | |",
    "|---|---:|---:|---:|---:|---:|---|---|",
    row(`fan-out: emit → last of ${clients} clients, per event`, fan.perEvent, `p99 ≤ ${TARGET.fanoutP99}`, yes(fanOk)),
    row("fan-out: emit → receipt, all (client, event) pairs", fan.pairs),
    row("fan-out: emit → first client, per event", fan.first),
    row("fan-out: first → last receipt (client-side spread)", fan.spread),
    row(`step hop: succeeded[i−1] → started[i] (incl. ${waitMs} ms batch wait)`, orch.hop),
    row(`orchestration overhead: hop − ${waitMs} ms batch wait`, orch.overhead, `p50 ≤ ${TARGET.overheadP50}`, yes(orchOk)),
    row("step cycle: succeeded[i−1] → succeeded[i]", orch.cycle),
    row("step work: `duration_ms` of step.succeeded", orch.step_duration_ms),
    "",
    `Fan-out: ${tasks} tasks × ${FANOUT_STEPS.length} steps, ${clients} WebSockets in one Node process; only events stamped after every client was connected count; ` +
      `${fan.missing} (client, event) deliveries missing; close codes ${JSON.stringify(fan.closes)}. ` +
      `The receiving Node process is part of the path: ${os.cpus().length} CPUs shared with workerd, CPU per live event: client ${f(fan.cpu_ms_per_event.client)} ms, server (wrangler + workerd) ${f(fan.cpu_ms_per_event.server)} ms; ` +
      `client event-loop utilisation ${(fan.client_event_loop_utilization * 100).toFixed(0)}% (averaged over the idle queue waits too). ` +
      `The spread row is the serial cost of one message per socket, on both sides.`,
    `Orchestration: ${HOP_TASKS} tasks × ${HOP_STEPS.length} steps (grayscale on 2×2 PNG), batch wait ${waitMs} ms = wrangler.toml max_batch_timeout (local queue waits it on every hop); ${orch.retries} retries.`,
  ].join("\n");
  const results = { clients, tasks, batch_wait_ms: waitMs, cpus: os.cpus().length, node: process.version, targets: TARGET, fanout: { ...fan, target_met: fanOk }, orchestration: { ...orch, target_met: orchOk } };
  writeFileSync(path.join(benchDir, "live-results.json"), JSON.stringify(results, null, 2) + "\n");
  console.log(md);
}

const interrupted = onExitStopServers(log);
main()
  .catch((e) => {
    if (interrupted.value) return;
    console.error(`[bench] failed: ${e.stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all([...servers].map(stopServer));
  });
