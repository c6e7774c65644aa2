// Live-stream latency on `wrangler dev`: (1) event fan-out from one task's Durable
// Object to many WebSocket subscribers, (2) the orchestration overhead of one step (queue hop +
// object update + push) with a step whose work is ~0 ms.
//
//   node bench/live.mjs [--clients 1000] [--tasks 5] [--via worker|proxy]
//                                                    (wired as `bash scripts/bench.sh live`)
//
// Latency is measured against the event's own `at`, which the object stamps before it serialises
// and sends the event; server and clients run on this machine and share its clock, so no skew to
// correct for. `--via worker` (default) connects the clients to the workerd that runs the Worker;
// `--via proxy` goes through wrangler dev's public port, where a second workerd (wrangler's
// ProxyWorker, local only) re-frames every message on the same cores.

import { readFileSync, writeFileSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import zlib from "node:zlib";
import { mintToken, runBench, serverCpuMs, startServer, stopServer, workerPort } from "./server.mjs";

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
  const opts = { clients: 1000, tasks: 5, via: "worker" };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, ""), value = argv[i + 1];
    const ok = key === "via" ? ["worker", "proxy"].includes(value) : key in opts && Number.isInteger(Number(value)) && Number(value) >= 1;
    if (!ok) throw new Error("usage: node bench/live.mjs [--clients 1000] [--tasks 5] [--via worker|proxy]");
    opts[key] = key === "via" ? value : Number(value);
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

// The subscribers: a minimal RFC 6455 client on a raw TCP socket (text, ping and close frames;
// servers never mask, and the studio sends each event as one small frame). All 1,000 share this
// process and the machine's 2 cores with workerd, so every µs they spend is taken from the
// server: Node's built-in WebSocket offers permessage-deflate, which wrangler's proxy accepts
// (both ends then deflate/inflate every event per socket: 94 ms of client CPU per event), `ws`
// without compression spent ~21 µs per message, this 13-17 µs. net's `onread` reads every socket
// into one shared buffer without stream machinery; receipt time = when a frame's bytes are read.
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const rxBuffer = Buffer.allocUnsafe(1 << 16);
const now = () => performance.timeOrigin + performance.now(); // absolute ms, sub-ms resolution

function clientFrame(opcode, payload) {
  const mask = randomBytes(4), body = Buffer.from(payload); // pong or close: < 126 bytes
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | body.length]), mask, body]);
}

function subscribe(url, onText) {
  return new Promise((resolve, reject) => {
    const u = new URL(url), key = randomBytes(16).toString("base64");
    let pending = null, open = false, code = 1006;
    const onread = { buffer: rxBuffer, callback: (n, buf) => void onBytes(buf.subarray(0, n)) };
    const sock = net.connect({ host: u.hostname, port: Number(u.port), noDelay: true, onread });
    const ws = { closed: new Promise((r) => sock.on("close", () => r(code))) };
    sock.on("error", (e) => open || reject(new Error(`WebSocket ${u.pathname} failed to open: ${e.message}`)));
    sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    function onBytes(chunk) {
      const rx = now();
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk, pos = 0;
      pending = null;
      if (!open) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return void (pending = Buffer.from(buf));
        const head = buf.toString("latin1", 0, end);
        if (!head.startsWith("HTTP/1.1 101") || !head.includes(createHash("sha1").update(key + GUID).digest("base64"))) {
          sock.destroy();
          return reject(new Error(`WebSocket ${u.pathname}: ${head.split("\r\n")[0]}`));
        }
        (open = true), resolve(ws), (pos = end + 4);
      }
      while (buf.length - pos >= 2) {
        let len = buf[pos + 1] & 0x7f;
        const start = pos + (len === 126 ? 4 : len === 127 ? 10 : 2);
        if (buf.length < start) break;
        if (len === 126) len = buf.readUInt16BE(pos + 2);
        if (len === 127) len = Number(buf.readBigUInt64BE(pos + 2));
        if (buf.length < start + len) break;
        const opcode = buf[pos] & 0x0f, payload = buf.subarray(start, start + len);
        if (!(buf[pos] & 0x80) || opcode === 0) return void sock.destroy(new Error("fragmented frame"));
        pos = start + len;
        if (opcode === 1) onText(payload, rx);
        else if (opcode === 9) sock.write(clientFrame(10, payload));
        else if (opcode === 8) (code = len >= 2 ? payload.readUInt16BE(0) : 1005), sock.end(clientFrame(8, payload.subarray(0, 2)));
      }
      if (pos < buf.length) pending = Buffer.from(buf.subarray(pos)); // a copy: rxBuffer is reused
    }
  });
}

// An event's `seq` without parsing it all: the studio writes it first (`{"seq":12,…`).
const seqOf = (buf) => (buf.toString("latin1", 0, 7) === '{"seq":' ? parseInt(buf.toString("latin1", 7, 27), 10) : JSON.parse(buf).seq);

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
async function fanout(server, token, clients, tasks, wsUrl) {
  const perEvent = [], pairs = [], first = [], spread = [], closes = {}, slowest = [];
  let missing = 0, elu = 0, liveEvents = 0;
  const cpu = { client: 0, worker: 0, proxy: 0, wrangler: 0 };
  for (let t = 0; t < tasks; t++) {
    const task = await newTask(server, token, FANOUT_STEPS);
    const events = new Map(); // seq -> { at, receipts[] }
    const onText = (buf, rx) => {
      const seq = seqOf(buf);
      let ev = events.get(seq);
      if (!ev) {
        const e = JSON.parse(buf);
        events.set(seq, (ev = { at: Date.parse(e.at), type: e.type, receipts: [] }));
      }
      ev.receipts.push(rx);
    };
    const sockets = [];
    const c0 = Date.now();
    for (let i = 0; i < clients; i += CONNECT_BATCH) {
      const batch = Array.from({ length: Math.min(CONNECT_BATCH, clients - i) }, () => subscribe(wsUrl(task), onText));
      sockets.push(...(await Promise.all(batch)));
    }
    const allConnected = Date.now();
    const elu0 = performance.eventLoopUtilization();
    const [client0, server0] = [clientCpuMs(), serverCpuMs(server)];
    const codes = await withTimeout(Promise.all(sockets.map((s) => s.closed)), 180_000, `task ${task.id}`);
    elu += performance.eventLoopUtilization(elu0).utilization / tasks;
    cpu.client += clientCpuMs() - client0;
    for (const [role, ms] of Object.entries(serverCpuMs(server))) cpu[role] += ms - server0[role];
    for (const c of codes) closes[c] = (closes[c] ?? 0) + 1;
    const live = [...events.values()].filter((e) => e.at >= allConnected);
    liveEvents += live.length;
    for (const e of live) {
      missing += clients - e.receipts.length;
      const lat = e.receipts.map((rx) => rx - e.at);
      pairs.push(...lat);
      perEvent.push(Math.max(...lat));
      slowest.push({ type: e.type, ms: Math.round(Math.max(...lat)), first: Math.round(Math.min(...lat)) });
      first.push(Math.min(...lat));
      spread.push(Math.max(...e.receipts) - Math.min(...e.receipts));
    }
    log(`fan-out task ${t + 1}/${tasks}: ${clients} clients connected in ${allConnected - c0} ms, ${live.length} of ${events.size} events live`);
  }
  slowest.sort((a, b) => b.ms - a.ms);
  log(`fan-out: slowest events ${JSON.stringify(slowest.slice(0, 8))}`);
  return { perEvent: stats(perEvent), pairs: stats(pairs), first: stats(first), spread: stats(spread), missing, closes, slowest: slowest.slice(0, 20),
    client_event_loop_utilization: elu,
    // CPU from "all connected" to "all closed" (incl. the steps' own work and the sockets'
    // teardown after the last event), per live event.
    cpu_ms_per_event: Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [k, ms / liveEvents])) };
}

// (2) Orchestration overhead: one subscriber, a long chain of near no-op steps on a 2×2 image.
async function hops(server, token, waitMs, wsUrl) {
  const hop = [], cycle = [], work = [];
  let retries = 0;
  for (let t = 0; t < HOP_TASKS; t++) {
    const task = await newTask(server, token, HOP_STEPS);
    const started = [], succeeded = [];
    const opened = Date.now();
    const ws = await subscribe(wsUrl(task), (buf, rx) => {
      const e = JSON.parse(buf);
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
  const { clients, tasks, via } = parseArgs(process.argv.slice(2));
  const waitMs = batchWaitMs();
  // The socket cap is MAX_SOCKETS_PER_STREAM (default 1000): raise it above the client count.
  const server = await startServer({ MAX_SOCKETS_PER_STREAM: String(clients + 100), RATE_LIMIT_PER_MINUTE: "100000000" });
  const token = mintToken("live-bench");
  // The API calls always go through wrangler's port; only the sockets take `via`.
  const port = via === "worker" ? await workerPort(server) : server.port;
  const wsUrl = (task) => Object.assign(new URL(task.links.ws), { port: String(port) }).href;
  log(`sockets via ${via === "worker" ? `the Worker's workerd (port ${port})` : `wrangler's proxy (port ${port})`}`);
  log(`orchestration: ${HOP_TASKS} tasks of ${HOP_STEPS.length} steps, batch wait ${waitMs} ms`);
  const orch = await hops(server, token, waitMs, wsUrl);
  log(`fan-out: ${tasks} tasks × ${clients} clients`);
  const fan = await fanout(server, token, clients, tasks, wsUrl);
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
    `Fan-out: ${tasks} tasks × ${FANOUT_STEPS.length} steps, ${clients} WebSocket clients (raw RFC 6455, no compression) in one Node process on the same machine as the server, ` +
      `connected ${via === "worker" ? "straight to the workerd running the Worker (not through wrangler's local proxy)" : "through wrangler dev's proxy (a second workerd)"}; only events stamped after every client was connected count; ` +
      `${fan.missing} (client, event) deliveries missing; close codes ${JSON.stringify(fan.closes)}. ` +
      `Everything shares ${os.cpus().length} CPUs; CPU per live event: Worker's workerd ${f(fan.cpu_ms_per_event.worker)} ms, wrangler's proxy workerd ${f(fan.cpu_ms_per_event.proxy)} ms, ` +
      `wrangler's node ${f(fan.cpu_ms_per_event.wrangler)} ms, clients ${f(fan.cpu_ms_per_event.client)} ms; ` +
      `client event-loop utilisation ${(fan.client_event_loop_utilization * 100).toFixed(0)}% (averaged over the idle queue waits too). ` +
      `The spread row is the serial cost of one message per socket, on both sides.`,
    `Orchestration: ${HOP_TASKS} tasks × ${HOP_STEPS.length} steps (grayscale on 2×2 PNG), batch wait ${waitMs} ms = wrangler.toml max_batch_timeout (local queue waits it on every hop); ${orch.retries} retries.`,
  ].join("\n");
  const results = { clients, tasks, via, batch_wait_ms: waitMs, cpus: os.cpus().length, node: process.version, targets: TARGET, fanout: { ...fan, target_met: fanOk }, orchestration: { ...orch, target_met: orchOk } };
  writeFileSync(path.join(benchDir, "live-results.json"), JSON.stringify(results, null, 2) + "\n");
  console.log(md);
}

runBench(main, log);
