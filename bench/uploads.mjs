// Upload latency END TO END through the public route `POST /images`, with the placeholder
// analysis on and off (issue 17: "the upload answer's latency does not change").
//
//   node bench/uploads.mjs [--runs 30] [--via worker|proxy]   (via `bash scripts/bench.sh uploads`)
//
// Two dev servers from the same build: "off" runs with the dev-only BENCH_SKIP_ANALYSIS=1 (no
// job, nothing owed), "on" as deployed. Both take the same inputs (distinct bytes per upload: a
// JPEG COM segment), interleaved round by round, the order alternating, so drift and machine
// noise fall on both alike. Each latency is one client round trip, request start to the 201's
// body read, from Node on loopback.
//   settled:     "on" times an upload only once the previous one's `image.analyzed` arrived on
//                the tenant feed (nothing of ours running in the background): the answer's own cost.
//   overlapping: uploads back to back, as a client uploading a folder does; the next upload is
//                timed while the previous ones' analysis runs in the same workerd (locally the
//                queue consumer shares the process and this machine's cores with the route).
// Also reported: upload answer → `image.analyzed` received (how soon a placeholder exists).

import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import sharp from "sharp";
import { jpegVariant, generatedImages } from "./inputs.mjs";
import { machine } from "./run-report.mjs";
import { mintToken, runBench, startServer, stopServer, workerPort } from "./server.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, "..");
const log = (...a) => console.error("[bench]", ...a);
const WARMUP = 3;

function parseArgs(argv) {
  const opts = { runs: 30, via: "worker" };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === "--runs") opts.runs = Number(argv[i + 1]);
    else if (argv[i] === "--via") opts.via = argv[i + 1];
    else throw new Error(`unknown option ${argv[i]}`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 5) throw new Error("--runs needs an integer >= 5");
  if (!["worker", "proxy"].includes(opts.via)) throw new Error("--via is worker or proxy");
  return opts;
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

// A server's client: timed uploads and the tenant feed's `image.analyzed` events.
async function client(server, via, tenant) {
  const port = via === "worker" ? await workerPort(server) : server.port;
  const base = `http://127.0.0.1:${port}`;
  const token = mintToken(tenant);
  const headers = { authorization: `Bearer ${token}` };
  const listing = await (await fetch(`${base}/tasks`, { headers })).json();
  const feed = new URL(listing.links.feed_ws);
  feed.host = `127.0.0.1:${port}`;
  const analyzed = new Map(); // image id → performance.now() of its event
  const waiters = new Map();
  const ws = new WebSocket(feed.href);
  await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = () => reject(new Error("feed socket failed")))));
  ws.onmessage = (m) => {
    if (m.data === "pong") return;
    const e = JSON.parse(m.data);
    if (e.type !== "image.analyzed") return;
    analyzed.set(e.image, performance.now());
    waiters.get(e.image)?.();
  };
  return {
    async upload(buf) {
      const t0 = performance.now();
      const res = await fetch(`${base}/images`, { method: "POST", body: buf, headers: { ...headers, "content-type": "image/jpeg" } });
      const body = await res.json();
      const t1 = performance.now();
      if (res.status !== 201) throw new Error(`POST /images answered ${res.status}: ${JSON.stringify(body)}`);
      return { id: body.id, ms: t1 - t0, answered: t1 };
    },
    // Resolves once `id`'s image.analyzed arrived: performance.now() of its arrival.
    analyzed(id, within = 120_000) {
      if (analyzed.has(id)) return Promise.resolve(analyzed.get(id));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no image.analyzed for ${id} within ${within} ms`)), within);
        waiters.set(id, () => (clearTimeout(timer), waiters.delete(id), resolve(analyzed.get(id))));
      });
    },
    close: () => ws.close(),
  };
}

async function inputs() {
  const [photo] = await generatedImages(sharp, path.join(benchDir, "fixtures"), ["photo-12mp.jpg"]);
  const small = await sharp(photo.buf).resize(1600, 1200, { fit: "inside" }).jpeg({ quality: 85 }).toBuffer();
  return [
    { name: "1600×1200 JPEG", buf: small },
    { name: "12 MP JPEG", buf: photo.buf },
  ];
}

async function main() {
  const { runs, via } = parseArgs(process.argv.slice(2));
  const m = machine(root, benchDir); // before the servers start: the load others put on the machine
  const images = await inputs();
  const vars = { RATE_LIMIT_PER_MINUTE: "100000000" };
  const servers = { off: await startServer({ ...vars, BENCH_SKIP_ANALYSIS: "1" }), on: await startServer(vars) };
  const c = { off: await client(servers.off, via, "bench-off"), on: await client(servers.on, via, "bench-on") };
  let n = 0;
  const variant = (buf) => jpegVariant(buf, `uploads ${process.pid} ${n++}`);
  const rows = [];
  for (const input of images) {
    log(`${input.name} (${(input.buf.length / 1024).toFixed(0)} KiB): warm-up, then ${runs} settled rounds`);
    const ms = { off: [], settled: [], overlapping: [], offBurst: [], toAnalyzed: [] };
    for (let i = 0; i < WARMUP; i++) {
      await c.off.upload(variant(input.buf));
      const up = await c.on.upload(variant(input.buf));
      await c.on.analyzed(up.id);
    }
    for (let i = 0; i < runs; i++) {
      const buf = variant(input.buf); // the same bytes for both servers
      const order = i % 2 ? ["on", "off"] : ["off", "on"];
      for (const side of order) {
        const up = await c[side].upload(buf);
        if (side === "off") ms.off.push(up.ms);
        else {
          ms.settled.push(up.ms);
          ms.toAnalyzed.push((await c.on.analyzed(up.id)) - up.answered);
        }
      }
    }
    log(`${input.name}: ${runs} back-to-back uploads on each server (off first, then on)`);
    for (let i = 0; i < runs; i++) ms.offBurst.push((await c.off.upload(variant(input.buf))).ms);
    const burst = [];
    for (let i = 0; i < runs; i++) {
      const up = await c.on.upload(variant(input.buf));
      ms.overlapping.push(up.ms);
      burst.push(up.id);
    }
    for (const id of burst) await c.on.analyzed(id);
    const fig = (xs) => ({ p50: quantile(xs, 0.5), p90: quantile(xs, 0.9) });
    rows.push({
      input: input.name,
      bytes: input.buf.length,
      off: fig(ms.off),
      settled: fig(ms.settled),
      off_back_to_back: fig(ms.offBurst),
      overlapping: fig(ms.overlapping),
      answer_to_analyzed: fig(ms.toAnalyzed),
    });
  }
  c.off.close();
  c.on.close();
  await stopServer(servers.off);
  await stopServer(servers.on);
  const f = (x) => x.toFixed(1);
  const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
  const md = [
    `Upload latency, POST /images, end to end (client round trip on loopback, via ${via === "worker" ? "the Worker's port" : "wrangler's proxy"}), ${runs} uploads per cell; load average before: ${m.load_average.join(", ")}`,
    "",
    "| input | analysis off p50 / p90 ms | on, settled p50 / p90 ms | settled / off (p50) | off, back to back p50 / p90 | on, overlapping p50 / p90 | overlapping / off (p50) | answer → image.analyzed p50 / p90 ms |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.input} (${(r.bytes / 1024).toFixed(0)} KiB) | ${f(r.off.p50)} / ${f(r.off.p90)} | ${f(r.settled.p50)} / ${f(r.settled.p90)} | ${ratio(r.settled.p50, r.off.p50)} | ${f(r.off_back_to_back.p50)} / ${f(r.off_back_to_back.p90)} | ${f(r.overlapping.p50)} / ${f(r.overlapping.p90)} | ${ratio(r.overlapping.p50, r.off_back_to_back.p50)} | ${f(r.answer_to_analyzed.p50)} / ${f(r.answer_to_analyzed.p90)} |`),
  ].join("\n");
  writeFileSync(path.join(benchDir, "uploads-results.json"), JSON.stringify({ machine: m, runs, via, rows }, null, 2) + "\n");
  console.log(md);
}

runBench(main, log);
