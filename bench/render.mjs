// Render URLs benchmark (issue 15) through the PUBLIC route, measured from outside:
//
//   node bench/render.mjs [--runs 7] [--hits 60] [--clients 100] [--images DIR] [--via worker|proxy]
//                         [--var NAME=VALUE]…  (wired as `bash scripts/bench.sh render`)
//
// `--var` sets a server var for the run (e.g. MEMORY_BUDGET_BYTES: a render gets half of it, and
// a rendition it cannot plan is refused with 413, which this reports instead of timing).
// Against a `wrangler dev` of its own (bench/server.mjs, release wasm), every figure is the wall
// time of one `GET /images/{id}/render?…` (bearer token) from just before the request to the last
// byte of the answer, over a keep-alive connection. sharp (one libvips thread, cache off) does the
// same work in this process in the same run, interleaved with the studio's requests.
// - cold: `?w=1600&q=80&format=jpeg` on a rendition nobody asked for before. Every sample is its
//   own upload of the photo with a distinct JPEG COM segment (pixels unchanged), so its content
//   hash, hence its derived-store key, is new: a true miss (R2 read, decode, auto-orient, resize,
//   encode, R2 write, edge put). sharp: rotate() → resize({width: 1600}) → jpeg({quality: 80}).
// - store hit: the same rendition with the edge cache skipped, by the dev-only header
//   `Stellar-Bench-Skip-Edge: 1` (honoured when BENCH_ROUTES=1) when the server honours it; else
//   a fresh `Host` per request: the edge key carries the origin, the store key does not, so each
//   request misses the edge and reads the store, as a cold edge in another location would.
// - edge hit: the same URL again, beside `GET /health?deep=0` (the same server's floor) and, in a
//   `wrangler dev` of the plain-JS control Worker (bench/control/) started for this part only, a
//   cache hit of the same bytes (`GET /bench/cache`: `caches.default.match`, nothing else) and its
//   no-op (`GET /health`): what the local Cache simulator costs any Worker.
// - coalescing: `--clients` simultaneous requests for one cold rendition; renders are counted
//   from the dev server's `{"event":"render",…,"image":…}` log lines.
// - negotiation: one URL (format auto) with three Accept headers.
// Cold and store-hit samples each start once the previous one's writes after its answer are
// done (its last log line), so each measures one request, not two overlapping (see `settled`).
// Inputs: the generated 12 MP photo (bench/fixtures/, see inputs.mjs) or DIR's 12 MP JPEG.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { mintToken, runBench, startServer, stopServer, workerPort } from "./server.mjs";
import { MIB, fmt, log, median, round, studioClient } from "./chains-lib.mjs";
import { generatedImages, imagesFromDir, jpegVariant } from "./inputs.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, "..");
const require = createRequire(import.meta.url);
const COLD = "w=1600&q=80&format=jpeg";
const SKIP_EDGE = "stellar-bench-skip-edge";
const ACCEPTS = ["image/avif,image/webp,*/*", "image/webp,*/*", "image/jpeg"];
const TARGETS = { cold_ratio: 1.0, store_ms: 10, edge_ms: 3 };

function parseArgs(argv) {
  const opts = { runs: 7, hits: 60, clients: 100, images: null, via: "worker", vars: {} };
  const usage = "usage: node bench/render.mjs [--runs N (7)] [--hits N (60)] [--clients N (100)] [--images DIR] [--via worker|proxy] [--var NAME=VALUE]…";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[++i];
    if (a === "-h" || a === "--help") (console.log(usage), process.exit(0));
    if (["--runs", "--hits", "--clients"].includes(a) && Number.isInteger(Number(v)) && Number(v) >= 1) opts[a.slice(2)] = Number(v);
    else if (a === "--images" && v) opts.images = path.resolve(v);
    else if (a === "--via" && ["worker", "proxy"].includes(v)) opts.via = v;
    else if (a === "--var" && /^[A-Z_]+=/.test(v ?? "")) opts.vars[v.slice(0, v.indexOf("="))] = v.slice(v.indexOf("=") + 1);
    else throw new Error(`bad argument ${a} ${v ?? ""}\n${usage}`);
  }
  return opts;
}

/** One GET, timed to the last byte: `{status, headers, body, ms}`. `host` overrides the Host header. */
function get(port, route, { agent, host, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request({ host: "127.0.0.1", port, path: route, agent, headers: { ...(host ? { host } : {}), ...headers } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - t0 }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(300_000, () => req.destroy(new Error(`GET ${route}: no answer within 300 s`)));
    req.end();
  });
}

/** Waits until every image in `ids` has its placeholder (its analysis ran), 60 s at most. */
async function analysed(port, auth, ids) {
  const deadline = Date.now() + 60_000;
  for (const id of ids) {
    for (;;) {
      const res = await get(port, `/images/${id}`, { headers: auth });
      if (res.status === 200 && JSON.parse(res.body).placeholder) break;
      if (Date.now() > deadline) throw new Error(`image ${id} was not analysed within 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const p = (xs, q) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : null;
};
const stats = (xs) => ({ p50: round(median(xs), 2), p90: round(p(xs, 0.9), 2), n: xs.length });
const tally = (xs) => xs.reduce((o, k) => ((o[k] = (o[k] ?? 0) + 1), o), {});

/** Lines `{"event":"render",…}` of wrangler's log that name `image`. */
function renderLines(logFile, image) {
  let n = 0;
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    const i = line.indexOf("{"), j = line.lastIndexOf("}");
    if (i < 0 || j < i || !line.includes('"render"')) continue;
    try {
      const o = JSON.parse(line.slice(i, j + 1));
      if (o.event === "render" && o.image === image) n++;
    } catch {
      /* not one whole JSON object */
    }
  }
  return n;
}

/** Whether wrangler's log has the line `{"event": event, "request_id": id, …}`. */
function hasLine(logFile, event, id) {
  const needle = `"request_id":"${id}"`;
  return readFileSync(logFile, "utf8")
    .split("\n")
    .some((line) => line.includes(needle) && line.includes(`"event":"${event}"`));
}

// A render's copies are written after its answer (`wait_until`, src/render/after.rs), and its
// last log line (`render` for a miss, `render_kept` for a store hit) says they are done. Each
// sample waits for the previous one's line, so that it measures one request on an otherwise
// idle server, not that request competing with the previous one's writes (which a sequential
// client's back-to-back requests would add on the same thread). Bounded: a line that never
// comes fails the run.
async function settled(logFile, res) {
  const event = { miss: "render", "hit-store": "render_kept" }[res.headers["stellar-cache"]];
  if (!event) return; // an edge hit writes nothing after its answer
  const id = res.headers["x-request-id"];
  if (!id) throw new Error("an answer without x-request-id");
  const deadline = performance.now() + 10_000;
  while (!hasLine(logFile, event, id)) {
    if (performance.now() > deadline) throw new Error(`no "${event}" log line for request ${id} within 10 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// wrangler writes the Worker's console lines a little after the answers: wait (bounded) until
// the count for `image` reaches at least one and stops changing.
async function settledRenderCount(logFile, image) {
  let last = -1, stableSince = performance.now();
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const n = renderLines(logFile, image);
    if (n !== last) (last = n), (stableSince = performance.now());
    else if (n > 0 && performance.now() - stableSince > 1000) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(path.join(root, "build/worker/shim.mjs"))) throw new Error("build/worker/shim.mjs is missing: run bash scripts/bench.sh render (it builds the release wasm)");
  const sharp = require("sharp");
  sharp.concurrency(1);
  sharp.cache(false);
  const [input] = opts.images ? await imagesFromDir(sharp, opts.images) : await generatedImages(sharp, path.join(benchDir, "fixtures"), ["photo-12mp.jpg"]);
  const meta = await sharp(input.buf).metadata();
  log(`input: ${input.name} (${meta.width}×${meta.height}, EXIF orientation ${meta.orientation ?? 1}, ${fmt(input.buf.length / MIB)} MiB)`);
  const sharpCold = async () => {
    const t0 = performance.now();
    const { info } = await sharp(input.buf).rotate().resize({ width: 1600 }).jpeg({ quality: 80 }).toBuffer({ resolveWithObject: true });
    return { ms: performance.now() - t0, width: info.width, height: info.height, bytes: info.size };
  };

  const loadBefore = os.loadavg().map((x) => round(x, 2));
  const server = await startServer({ RATE_LIMIT_PER_MINUTE: "100000000", ...opts.vars }, ["--log-level", "log"]);
  const port = opts.via === "worker" ? await workerPort(server) : server.port;
  log(`requests via ${opts.via === "worker" ? `the Worker's workerd (port ${port})` : `wrangler's proxy (port ${port})`}`);
  const token = mintToken("render-bench");
  const auth = { authorization: `Bearer ${token}` };
  const studio = studioClient(port, token);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const nonce = randomBytes(4).toString("hex");
  const upload = (tag) => studio.upload(jpegVariant(input.buf, `${nonce} ${tag}`), "image/jpeg");
  const render = (id, query, extra = {}) => get(port, `/images/${id}/render?${query}`, { agent, ...extra, headers: { ...auth, ...extra.headers } });

  // Uploads (untimed): a warm-up, one per cold sample, one for the simultaneous requests.
  log(`uploading ${opts.runs + 2} variants (distinct COM segments)`);
  const warm = await upload("warm-up");
  const colds = [];
  for (let r = 0; r < opts.runs; r++) colds.push(await upload(`cold ${r}`));
  const crowd = await upload("crowd");
  // Each upload's analysis (its placeholder: a decode, in the queue) runs after its answer and
  // takes the isolate's turn; left running, it lands inside the cold samples (they then grew
  // from ~50 to ~80 ms as the backlog of analyses reached them). A render is measured alone.
  await analysed(port, auth, [warm, ...colds, crowd]);

  // Cold renders, studio and sharp alternating which goes first.
  const first = await render(warm, COLD);
  if (first.status === 413) return refused(first, input, meta, opts, server);
  if (first.status !== 200) throw new Error(`warm-up render answered ${first.status}: ${first.body.toString().slice(0, 300)}`);
  await sharpCold();
  const cold = { studio: [], sharp: [], sources: [], studioOut: null, sharpOut: null };
  for (let r = 0; r < opts.runs; r++) {
    if (r % 2) cold.sharpOut = await sharpCold().then((s) => (cold.sharp.push(s.ms), s));
    const res = await render(colds[r], COLD);
    if (res.status !== 200) throw new Error(`cold render answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
    cold.studio.push(res.ms);
    cold.sources.push(res.headers["stellar-cache"]);
    await settled(server.logFile, res);
    if (!cold.studioOut) {
      const m = await sharp(res.body).metadata();
      cold.studioOut = { width: m.width, height: m.height, bytes: res.body.length, type: res.headers["content-type"] };
    }
    if (!(r % 2)) cold.sharpOut = await sharpCold().then((s) => (cold.sharp.push(s.ms), s));
    log(`cold ${r + 1}/${opts.runs}: studio ${fmt(res.ms)} ms (${res.headers["stellar-cache"]}), sharp ${fmt(cold.sharp.at(-1))} ms`);
  }

  // Store hits: the skip-edge header when the server honours it (two answers in a row from the
  // store), else a fresh Host (origin) per request.
  // Each settled before the next: a request arriving while the previous one's writes still run
  // reads that answer from the isolate's coalescing table (src/render/flight.rs) and logs no
  // line of its own, which once left this probe waiting for a line that never comes.
  const probe = [];
  for (let i = 0; i < 2; i++) {
    const res = await render(colds[0], COLD, { headers: { [SKIP_EDGE]: "1" } });
    await settled(server.logFile, res);
    probe.push(res);
  }
  const byHeader = probe.every((r) => r.headers["stellar-cache"] === "hit-store");
  const store = { method: byHeader ? `header ${SKIP_EDGE}: 1` : "a fresh Host header (origin) per request", ms: [], sources: [] };
  log(`store hits by ${store.method}`);
  for (let i = 0; i < opts.hits; i++) {
    const extra = byHeader ? { headers: { [SKIP_EDGE]: "1" } } : { host: `s${i}-${nonce}.bench.test:${port}` };
    const res = await render(colds[0], COLD, extra);
    store.ms.push(res.ms);
    store.sources.push(res.headers["stellar-cache"]);
    await settled(server.logFile, res);
  }

  // Edge hits, interleaved with the floor (same agent, same connection) and with the plain-JS
  // control's cache hit of the same bytes and its no-op (its own connection).
  const edge = { ms: [], sources: [], floor: [], jsCache: [], jsNoop: [] };
  const rendition = await render(colds[0], COLD); // the default origin's edge copy exists since the cold render; make sure
  const control = await startServer({}, ["--config", "bench/control/wrangler.toml"]);
  const controlPort = opts.via === "worker" ? await workerPort(control) : control.port;
  const controlAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  await putControlCache(controlPort, rendition);
  for (let i = 0; i < opts.hits; i++) {
    const res = await render(colds[0], COLD);
    edge.ms.push(res.ms);
    edge.sources.push(res.headers["stellar-cache"]);
    edge.floor.push((await get(port, "/health?deep=0", { agent })).ms);
    const js = await get(controlPort, "/bench/cache", { agent: controlAgent });
    if (js.status !== 200 || js.body.length !== rendition.body.length) throw new Error(`control cache hit answered ${js.status} with ${js.body.length} bytes`);
    edge.jsCache.push(js.ms);
    edge.jsNoop.push((await get(controlPort, "/health", { agent: controlAgent })).ms);
  }
  controlAgent.destroy();
  await stopServer(control);

  // Simultaneous requests for one cold rendition, each on its own connection, opened beforehand
  // (a round of /health?deep=0) so that all of them reach the Worker together.
  const many = new http.Agent({ keepAlive: true, maxSockets: opts.clients });
  await Promise.all(Array.from({ length: opts.clients }, () => get(port, "/health?deep=0", { agent: many })));
  const t0 = performance.now();
  const answers = await Promise.all(Array.from({ length: opts.clients }, () => get(port, `/images/${crowd}/render?${COLD}`, { agent: many, headers: auth }).catch((e) => ({ status: `error: ${e.message}`, headers: {} }))));
  const crowdMs = performance.now() - t0;
  const renders = await settledRenderCount(server.logFile, crowd);
  const crowdOut = { clients: opts.clients, statuses: tally(answers.map((a) => a.status)), sources: tally(answers.map((a) => a.headers["stellar-cache"])), renders, wall_ms: round(crowdMs) };
  log(`${opts.clients} simultaneous: ${JSON.stringify(crowdOut)}`);
  many.destroy();

  // Negotiation: one URL, format auto.
  const negotiation = [];
  for (const accept of ACCEPTS) {
    const res = await render(colds[0], "w=800", { headers: { accept } });
    negotiation.push({ accept, status: res.status, type: res.headers["content-type"], vary: res.headers.vary ?? null, source: res.headers["stellar-cache"] });
  }
  await stopServer(server);

  const m = { date: new Date().toISOString(), cpu: os.cpus()[0]?.model?.trim() ?? "unknown", cores: os.cpus().length, node: process.version, sharp: sharp.versions.sharp, libvips: sharp.versions.vips, load_before: loadBefore, load_after: os.loadavg().map((x) => round(x, 2)) };
  const result = {
    kind: "end to end through the public route GET /images/{id}/render", via: opts.via, input: { name: input.name, width: meta.width, height: meta.height, orientation: meta.orientation ?? 1, bytes: input.buf.length },
    cold: { studio: stats(cold.studio), sharp: stats(cold.sharp), ratio: round(median(cold.studio) / median(cold.sharp), 2), sources: tally(cold.sources), studio_output: cold.studioOut, sharp_output: cold.sharpOut && { width: cold.sharpOut.width, height: cold.sharpOut.height, bytes: cold.sharpOut.bytes } },
    store: { method: store.method, ...stats(store.ms), sources: tally(store.sources) },
    edge: {
      ...stats(edge.ms), sources: tally(edge.sources), floor: stats(edge.floor), over_floor_ms: round(median(edge.ms) - median(edge.floor), 2),
      js_cache_hit: stats(edge.jsCache), js_noop: stats(edge.jsNoop), over_js_cache_ms: round(median(edge.ms) - median(edge.jsCache), 2), js_cache_over_noop_ms: round(median(edge.jsCache) - median(edge.jsNoop), 2),
    },
    crowd: crowdOut, negotiation, machine: m,
  };
  result.markdown = markdown(result, opts);
  writeFileSync(path.join(benchDir, "render-results.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(result.markdown);
  log("wrote bench/render-results.json");
}

/** Stores `rendition`'s bytes in the control Worker's `caches.default` (bench/control/worker.mjs). */
function putControlCache(port, rendition) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/bench/cache", method: "PUT", headers: { "content-type": rendition.headers["content-type"], "content-length": rendition.body.length } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 204 ? resolve() : reject(new Error(`control cache put answered ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(rendition.body);
  });
}

// The route refuses the rendition (the render budget is half MEMORY_BUDGET_BYTES): nothing to time.
async function refused(answer, input, meta, opts, server) {
  await stopServer(server);
  const message = JSON.parse(answer.body.toString()).error?.message ?? answer.body.toString();
  const vars = Object.entries(opts.vars).map(([k, v]) => `${k}=${v}`).join(" ") || "the defaults";
  const markdown = [
    "## Render URLs through the public route: REFUSED",
    "",
    `\`GET /images/{id}/render?${COLD}\` on ${input.name} (${meta.width}×${meta.height}) answered 413 with ${vars}: ${message}`,
    "Nothing was timed. To measure anyway, give renders the planned peak, e.g. `--var MEMORY_BUDGET_BYTES=167772160` (renders get half).",
  ].join("\n");
  writeFileSync(path.join(benchDir, "render-results.json"), JSON.stringify({ refused: message, vars: opts.vars, input: input.name, markdown }, null, 2) + "\n");
  console.log(markdown);
  process.exitCode = 2;
}

function markdown(r, opts) {
  const met = (ok) => (ok ? "met" : "**NOT met**");
  const src = (t) => Object.entries(t).map(([k, v]) => `${k} ×${v}`).join(", ");
  const out = (o) => (o ? `${o.width}×${o.height}, ${fmt(o.bytes / 1024, 0)} KiB` : "—");
  const c = r.cold, s = r.store, e = r.edge, k = r.crowd;
  return [
    `## Render URLs through the public route (\`GET /images/{id}/render\`, from outside) vs sharp in-process`,
    "",
    `Input: ${r.input.name} (${r.input.width}×${r.input.height}, EXIF orientation ${r.input.orientation}). Requests via ${r.via === "worker" ? "the Worker's own workerd (no wrangler proxy)" : "wrangler dev's proxy port"}, bearer token, keep-alive; p50 of ${opts.runs} cold samples and ${opts.hits} hit samples; server vars: ${Object.entries(opts.vars).map(([k, v]) => `${k}=${v}`).join(" ") || "defaults"}.`,
    "",
    "| measure | studio p50 ms (p90) | peer / floor p50 ms | ratio or figure | target | met? |",
    "|---|---:|---:|---:|---|---|",
    `| cold render → 1600 px JPEG q80 (\`?${COLD}\`) | ${fmt(c.studio.p50)} (${fmt(c.studio.p90)}) | sharp ${fmt(c.sharp.p50)} | ${fmt(c.ratio, 2)}× | ≤ ${TARGETS.cold_ratio}× sharp | ${met(c.ratio <= TARGETS.cold_ratio)} |`,
    `| store hit, edge skipped (${s.method}) | ${fmt(s.p50, 2)} (${fmt(s.p90, 2)}) | — | ${fmt(s.p50, 2)} ms | ≤ ${TARGETS.store_ms} ms | ${met(s.p50 <= TARGETS.store_ms)} |`,
    `| edge hit | ${fmt(e.p50, 2)} (${fmt(e.p90, 2)}) | floor \`GET /health?deep=0\` ${fmt(e.floor.p50, 2)} | ${fmt(e.over_floor_ms, 2)} ms over the floor | ≤ ${TARGETS.edge_ms} ms | ${met(e.p50 <= TARGETS.edge_ms)} (p50 itself) |`,
    `| plain-JS Worker: cache hit of the same bytes (control, \`caches.default.match\` only) | ${fmt(e.js_cache_hit.p50, 2)} (${fmt(e.js_cache_hit.p90, 2)}) | its no-op \`GET /health\` ${fmt(e.js_noop.p50, 2)} | cache hit ${fmt(e.js_cache_over_noop_ms, 2)} ms over its no-op; **our edge hit − plain-JS cache hit ${fmt(e.over_js_cache_ms, 2)} ms** | — | — |`,
    `| ${k.clients} simultaneous requests, one cold rendition | — | — | ${JSON.stringify(k.statuses)}; ${k.renders} render(s); ${fmt(k.wall_ms, 0)} ms for all | all 200, one render | ${met(k.statuses[200] === k.clients && k.renders === 1)} |`,
    "",
    `Stellar-Cache seen: cold ${src(c.sources)}; store ${src(s.sources)}; edge ${src(e.sources)}; simultaneous ${src(k.sources)}.`,
    `Outputs: studio ${out(c.studio_output)} ${c.studio_output?.type ?? ""}; sharp ${out(c.sharp_output)} (sharp: rotate() → resize({width: 1600}) → jpeg({quality: 80}), libvips ${r.machine.libvips}, one thread, cache off).`,
    "",
    "Negotiation (`?w=800`, format auto):",
    "",
    "| Accept | status | Content-Type | Vary |",
    "|---|---|---|---|",
    ...r.negotiation.map((n) => `| \`${n.accept}\` | ${n.status} | ${n.type} | ${n.vary ?? "—"} |`),
    "",
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores; load average ${r.machine.load_before.join(" ")} before, ${r.machine.load_after.join(" ")} after; Node ${r.machine.node}; sharp ${r.machine.sharp}; ${r.machine.date}.`,
  ].join("\n");
}

runBench(main, log);
