// END-TO-END chains benchmark through the studio's PUBLIC routes: what a user meets.
//
//   node bench/chains.mjs [--runs 5] [--warmup 1] [--images DIR] [--cases web,six,…] [--via worker|proxy]
//                                              (wired as `bash scripts/bench.sh chains`)
//
// Every studio figure is wall time from just before `POST /tasks` to the receipt of the terminal
// event (task.succeeded/failed/cancelled) on the task's WebSocket (`links.ws`, since=0), against
// a `wrangler dev` (release wasm, local workerd, queue, R2, Durable Objects) started by
// bench/server.mjs: queueing, orchestration, R2 reads and writes and the events are all inside.
// Requests and sockets go straight to the workerd that runs the Worker (`--via worker`, the
// default: production has no local proxy) or through wrangler's proxy port (`--via proxy`).
// These are NOT the in-isolate chain times of bench/run.mjs (`bash scripts/bench.sh`).
// sharp 0.35.5 (one libvips thread, cache off) runs the equivalent pipeline in this process,
// interleaved with the studio's runs, from the encoded bytes in memory to the encoded buffer.
//
// Inputs: generated once into bench/fixtures/ (gitignored) unless --images DIR names a folder
// with a 12 MP and a 48 MP JPEG. Uploads are untimed and every task gets its own upload with
// distinct bytes (a JPEG COM segment naming the run), so the studio's result reuse never kicks in.
// Cases: the presets web, thumbnail, avatar (12 MP and 48 MP), `six` (six steps, 12 MP), `bench`
// (resize 1600 Lanczos3 + JPEG q80: end to end and the steps' own duration_ms), and
// `orchestration` (1 vs 11 no-op brightness steps on a 64×64 PNG: the cost per extra step).

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mintToken, runBench, startServer, stopServer, workerPort } from "./server.mjs";
import { MIB, Refused, fmt, jobLines, log, round, sharpOnce, sharpPipelines, studioClient } from "./chains-lib.mjs";
import { report } from "./chains-report.mjs";
import { generatedImages, imagesFromDir, jpegVariant, tinyPng } from "./inputs.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, "..");
const require = createRequire(import.meta.url);

const SIX = [
  { op: "resize", width: 1600 }, { op: "sharpen" }, { op: "saturation", factor: 1.2 }, { op: "vignette" },
  { op: "text", text: "Stellar" }, { op: "encode", format: "jpeg", quality: 80 },
];
const BENCH = [{ op: "resize", width: 1600, filter: "lanczos3" }, { op: "encode", format: "jpeg", quality: 80 }];
const NOOP = { op: "brightness", factor: 1 };
// key, request body (without images), images it runs on, sharp pipeline, target.
const CASES = [
  ...["web", "thumbnail", "avatar"].map((p) => ({ key: p, group: "presets", body: { preset: p }, on: ["12", "48"], sharp: p, target: 2 })),
  { key: "six", group: "six", body: { steps: SIX }, on: ["12"], sharp: "six", target: 2.5 },
  { key: "bench", group: "bench", body: { steps: BENCH }, on: ["12", "48"], sharp: "bench", target: 1.2 },
  { key: "orch-1", group: "orchestration", body: { steps: [NOOP] }, on: ["tiny"] },
  { key: "orch-11", group: "orchestration", body: { steps: Array(11).fill(NOOP) }, on: ["tiny"] },
];

function parseArgs(argv) {
  const opts = { runs: 5, warmup: 1, images: null, cases: null, via: "worker", state: existsSync("/dev/shm") ? "tmpfs" : "disk" };
  const usage = "usage: node bench/chains.mjs [--runs N (5)] [--warmup N (1)] [--images DIR] [--cases web,thumbnail,avatar,six,bench,orchestration] [--via worker|proxy] [--state tmpfs|disk]";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[++i];
    if (a === "-h" || a === "--help") (console.log(usage), process.exit(0));
    if ((a === "--runs" || a === "--warmup") && Number.isInteger(Number(v)) && Number(v) >= (a === "--runs" ? 1 : 0)) opts[a.slice(2)] = Number(v);
    else if (a === "--images" && v) opts.images = path.resolve(v);
    else if (a === "--cases" && v) opts.cases = v.split(",");
    else if (a === "--via" && ["worker", "proxy"].includes(v)) opts.via = v;
    else if (a === "--state" && ["tmpfs", "disk"].includes(v)) opts.state = v;
    else throw new Error(`bad argument ${a} ${v ?? ""}\n${usage}`);
  }
  return opts;
}

function machine(sharp) {
  const version = (p) => {
    try {
      return JSON.parse(readFileSync(p, "utf8")).version;
    } catch {
      return null;
    }
  };
  return {
    date: new Date().toISOString(), cpu: os.cpus()[0]?.model?.trim() ?? "unknown", cores: os.cpus().length,
    memory_gib: round(os.totalmem() / 1024 ** 3), load_average: os.loadavg().map((x) => round(x, 2)), node: process.version,
    wrangler: version(path.join(root, "node_modules/wrangler/package.json")), sharp: sharp.versions.sharp, libvips: sharp.versions.vips,
    sharp_concurrency: sharp.concurrency(),
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(path.join(root, "build/worker/shim.mjs"))) throw new Error("build/worker/shim.mjs is missing: run bash scripts/bench.sh chains (it builds the release wasm)");
  if (typeof WebSocket !== "function") throw new Error(`Node ${process.version} has no global WebSocket; use the repo's Node 22 (bash scripts/bench.sh chains)`);
  const sharp = require("sharp");
  sharp.concurrency(1);
  sharp.cache(false);
  const pipelines = sharpPipelines(sharp);
  const wanted = (c) => !opts.cases || opts.cases.includes(c.key) || opts.cases.includes(c.group);

  const inputs = opts.images ? await imagesFromDir(sharp, opts.images) : await generatedImages(sharp, path.join(benchDir, "fixtures"));
  const images = {};
  for (const [i, input] of inputs.entries()) {
    const m = await sharp(input.buf).metadata();
    const oriented = m.orientation >= 5;
    images[i ? "48" : "12"] = { ...input, type: "image/jpeg", stored: `${m.width}×${m.height}`, orientation: m.orientation ?? 1,
      dims: { width: oriented ? m.height : m.width, height: oriented ? m.width : m.height } };
  }
  images.tiny = { name: "64×64 PNG", type: "image/png" };
  for (const k of ["12", "48"]) log(`${k} MP input: ${images[k].name} (${images[k].stored}, EXIF orientation ${images[k].orientation}, ${fmt(images[k].buf.length / MIB)} MiB)`);

  const units = CASES.filter(wanted).flatMap((c) => c.on.map((on) => ({
    id: `${c.key}@${on}`, c, on, image: images[on], runs: [], sharp: [], sharpOut: null, refused: null, uploads: [],
    pipeline: c.sharp ? pipelines[c.sharp] : null, prep: c.sharp && pipelines[c.sharp].prepare ? pipelines[c.sharp].prepare(images[on].dims) : null,
  })));
  const nonce = randomBytes(4).toString("hex");
  let tinyCount = 0;
  const variant = async (u, tag) => (u.on === "tiny" ? tinyPng(sharp, ++tinyCount) : jpegVariant(u.image.buf, `${nonce} ${u.id} ${tag}`));

  const loadBefore = os.loadavg().map((x) => round(x, 2));
  // The dev server's state on tmpfs by default (see `stateBase` in bench/server.mjs): a local
  // disk's fsync on the Worker's thread is not a cost the platform has.
  const server = await startServer({ RATE_LIMIT_PER_MINUTE: "100000000" }, ["--log-level", "log"], { state: opts.state });
  log(`dev server state on ${opts.state === "tmpfs" ? "tmpfs (/dev/shm)" : "disk"} (${server.dir})`);
  // `worker` (default): straight to the workerd running the Worker, as production has no local
  // proxy; `proxy`: through wrangler dev's port, which adds a second local workerd re-framing
  // every request and socket (about 20 ms per task on this machine).
  const port = opts.via === "worker" ? await workerPort(server) : server.port;
  log(`requests and sockets via ${opts.via === "worker" ? `the Worker's workerd (port ${port})` : `wrangler's proxy (port ${port})`}`);
  const studio = studioClient(port, mintToken("chains-bench"));
  const presets = (await studio.get("/presets").catch((e) => (log(`warning: ${e.message}`), {}))).presets ?? [];
  const catalogue = await studio.get("/steps").catch(() => null);
  const ops = new Set((catalogue?.steps ?? []).map((s) => s.op ?? s.name));
  for (const op of ["resize", "sharpen", "saturation", "vignette", "text", "encode", "brightness"]) if (ops.size && !ops.has(op)) log(`warning: GET /steps lists no ${op}`);
  for (const p of presets) log(`preset ${p.name}: ${JSON.stringify(p.steps)}`);

  const studioRun = async (u, imageId, timed) => {
    try {
      const r = await studio.run({ images: [imageId], ...u.c.body });
      if (timed) u.runs.push(r);
      if (r.outcome !== "succeeded") log(`  ${u.id}: task ${r.task} ${r.outcome}: ${JSON.stringify(r.error)}`);
      if (r.cached) log(`  ${u.id}: task ${r.task} reused a cached result (the upload variants should prevent this)`);
      return r;
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      u.refused = e.message;
      log(`  ${u.id}: refused: ${e.message}`);
    }
  };
  const sharpRun = async (u, timed) => {
    if (!u.pipeline) return;
    const s = await sharpOnce(u.pipeline, u.image.buf, u.prep);
    u.sharpOut = s.output;
    if (timed) u.sharp.push(s.ms);
  };

  // Warm-up: one task and one sharp run per unit, its upload just before (untimed). A 413 here
  // marks the unit refused: no further uploads or runs for it (sharp still runs).
  const t0 = Date.now();
  for (let w = 0; w < opts.warmup; w++) {
    for (const u of units) {
      log(`warm-up ${w + 1}/${opts.warmup}: ${u.id}`);
      if (!u.refused) {
        try {
          await studioRun(u, await studio.upload(await variant(u, `warm-up ${w}`), u.image.type), false);
        } catch (e) {
          if (!(e instanceof Refused)) throw e;
          u.refused = `upload: ${e.message}`;
        }
      }
      await sharpRun(u, false);
    }
  }
  // The timed runs' uploads (distinct bytes each), all before the first timed run.
  for (const u of units.filter((u) => !u.refused)) {
    log(`uploading ${opts.runs} variants for ${u.id}`);
    try {
      for (let r = 0; r < opts.runs; r++) u.uploads.push(await studio.upload(await variant(u, `run ${r}`), u.image.type));
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      u.refused = `upload: ${e.message}`;
    }
  }
  // Timed: rounds over all units, the order rotating every round, studio and sharp alternating.
  for (let r = 0; r < opts.runs; r++) {
    for (let k = 0; k < units.length; k++) {
      const u = units[(r + k) % units.length];
      const studioFirst = r % 2 === 0;
      if (!studioFirst) await sharpRun(u, true);
      if (!u.refused) await studioRun(u, u.uploads[r], true);
      if (studioFirst) await sharpRun(u, true);
    }
    const last = units.map((u) => u.runs.at(-1)).filter(Boolean).map((x) => round(x.e2e_ms, 0));
    log(`round ${r + 1}/${opts.runs} done (${Math.round((Date.now() - t0) / 1000)} s); e2e ms: ${last.join(", ")}`);
  }
  const jobs = jobLines(readFileSync(server.logFile, "utf8"));
  await stopServer(server);

  const result = report(units, presets, pipelines, jobs, opts, machine(sharp), loadBefore, images);
  writeFileSync(path.join(benchDir, "chains-results.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(result.markdown);
  log(`wrote bench/chains-results.json (${Math.round((Date.now() - t0) / 1000)} s of runs)`);
}

runBench(main, log);
