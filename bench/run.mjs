// Benchmarks the studio's chain inside workerd against sharp (libvips) and photon-node (photon-rs
// compiled to wasm) on generated photo-like JPEGs (or --images DIR): decode → resize to 1600 px wide (Lanczos3) → JPEG q80.
//
//   node bench/run.mjs [--runs 7] [--photon-runs 3] [--no-photon]
//
// Run it through `bash scripts/bench.sh` (installs, builds the release wasm, then runs this with
// the repo's Node 22). It needs build/worker/shim.mjs and bench/node_modules; it builds nothing.
//
// Studio: one `wrangler dev` per image (fresh isolate, so memory_bytes — the wasm linear memory
// high-water mark — belongs to that image alone), started with `--var BENCH_ROUTES:1`. Its time
// is median(POST /__bench/chain) − median(POST /__bench/echo) with the same body, interleaved:
// the echo round trip (upload, routing, auth, copying the body into wasm) is subtracted.
// sharp (one libvips thread, no cache) runs in this process, interleaved with those round trips
// so that both sides of the ratio see the same machine. photon-node runs last (seconds per run,
// hundreds of MiB), after the dev servers are gone.

import { existsSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { mintToken, runBench, startServer, stopServer } from "./server.mjs";
import { MIB, fmt, log, median, round } from "./chains-lib.mjs";
import { generatedImages, imagesFromDir } from "./inputs.mjs";
import { machine, markdown, targets } from "./run-report.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, "..");
const require = createRequire(import.meta.url);

const WIDTH = 1600;
const QUALITY = 80;
const CHAIN = [
  { op: "resize", width: WIDTH, filter: "lanczos3" },
  { op: "encode", format: "jpeg", quality: QUALITY },
];
const WARMUP = 2;
const REQUEST_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const opts = { runs: 7, photonRuns: 3, photon: true, images: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const int = (name) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a positive integer`);
      return v;
    };
    if (a === "--runs") opts.runs = int(a);
    else if (a === "--photon-runs") opts.photonRuns = int(a);
    else if (a === "--no-photon") opts.photon = false;
    else if (a === "--images") opts.images = argv[++i];
    else if (a === "-h" || a === "--help") {
      console.log("usage: node bench/run.mjs [--runs N (7)] [--photon-runs N (3)] [--no-photon] [--images DIR]");
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Studio inside workerd

async function post(server, route, body, token) {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${server.port}${route}`, {
    method: "POST",
    body,
    headers: { authorization: `Bearer ${token}`, "content-type": "image/jpeg" },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`POST ${route.split("?")[0]} answered ${res.status}: ${text}`);
  return { ms, json: JSON.parse(text) };
}

// One image: the studio's chain and echo round trips and sharp's in-process run, interleaved
// (the order rotates every iteration) so that both sides of the ratio see the same machine.
async function benchStudioAndSharp(file, buf, token, sharp, runs) {
  const server = await startServer();
  try {
    const chainRoute = `/__bench/chain?chain=${encodeURIComponent(JSON.stringify(CHAIN))}`;
    const chainMs = [];
    const echoMs = [];
    const sharpMs = [];
    const memory = [];
    let answer;
    let sharpInfo;
    const runChain = async (keep) => {
      const { ms, json } = await post(server, chainRoute, buf, token);
      if (json.width !== WIDTH || json.content_type !== "image/jpeg") {
        throw new Error(`studio answered ${JSON.stringify(json)} for ${file}; expected a ${WIDTH} px wide image/jpeg`);
      }
      memory.push(json.memory_bytes);
      answer = json;
      if (keep) chainMs.push(ms);
    };
    const runEcho = async (keep) => {
      const { ms, json } = await post(server, "/__bench/echo", buf, token);
      if (json.bytes !== buf.length) throw new Error(`echo saw ${json.bytes} bytes, sent ${buf.length}`);
      if (keep) echoMs.push(ms);
    };
    const runSharp = async (keep) => {
      const t0 = performance.now();
      const { info } = await sharpOnce(sharp, buf);
      const ms = performance.now() - t0;
      if (info.width !== WIDTH) throw new Error(`sharp produced ${info.width} px wide output for ${file}`);
      sharpInfo = info;
      if (keep) sharpMs.push(ms);
    };
    const kinds = [runChain, runEcho, runSharp];
    for (let i = 0; i < WARMUP; i++) for (const run of kinds) await run(false);
    for (let i = 0; i < runs; i++) {
      // Rotate the order so no kind always follows another.
      for (let k = 0; k < kinds.length; k++) await kinds[(i + k) % kinds.length](true);
    }
    const chainMedian = median(chainMs);
    const echoMedian = median(echoMs);
    return {
      studio: {
        ms: chainMedian - echoMedian,
        chain_median_ms: chainMedian,
        echo_median_ms: echoMedian,
        chain_ms: chainMs.map((x) => round(x)),
        echo_ms: echoMs.map((x) => round(x)),
        memory_bytes: Math.max(...memory),
        memory_bytes_first: memory[0],
        output: { width: answer.width, height: answer.height, bytes: answer.bytes },
      },
      sharp: {
        ms: median(sharpMs),
        runs_ms: sharpMs.map((x) => round(x)),
        output: { width: sharpInfo.width, height: sharpInfo.height, bytes: sharpInfo.size },
      },
    };
  } finally {
    await stopServer(server);
  }
}

// ---------------------------------------------------------------------------------------------
// sharp and photon-node in this process

function sharpOnce(sharp, buf) {
  return sharp(buf).resize({ width: WIDTH, kernel: "lanczos3" }).jpeg({ quality: QUALITY }).toBuffer({ resolveWithObject: true });
}

function benchPhoton(photon, buf, runs) {
  const { PhotonImage, SamplingFilter, resize } = photon;
  const once = () => {
    const img = PhotonImage.new_from_byteslice(new Uint8Array(buf));
    const h = Math.round((img.get_height() * WIDTH) / img.get_width());
    const small = resize(img, WIDTH, h, SamplingFilter.Lanczos3);
    img.free();
    const out = small.get_bytes_jpeg(QUALITY);
    const dims = { width: small.get_width(), height: small.get_height(), bytes: out.length };
    small.free();
    return dims;
  };
  const rssBefore = process.memoryUsage().rss;
  // One warm-up: lets V8 tier the wasm module up (Liftoff → TurboFan) before timing.
  const output = once();
  if (output.width !== WIDTH) throw new Error(`photon produced ${output.width} px wide output`);
  const times = [];
  let rssAfter = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    once();
    times.push(performance.now() - t0);
    rssAfter = Math.max(rssAfter, process.memoryUsage().rss);
  }
  return {
    ms: median(times),
    runs_ms: times.map((x) => round(x)),
    rss_before_bytes: rssBefore,
    rss_after_bytes: rssAfter,
    // Process-wide resident high-water mark so far (photon's wasm memory never shrinks).
    max_rss_bytes: process.resourceUsage().maxRSS * 1024,
    output,
  };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const wasm = path.join(root, "build/worker/shim.mjs");
  if (!existsSync(wasm)) throw new Error(`${path.relative(root, wasm)} is missing: build first (bash scripts/build.sh, or run bash scripts/bench.sh)`);
  let sharp, photon;
  try {
    sharp = require("sharp");
    photon = opts.photon ? require("@silvia-odwyer/photon-node") : null;
  } catch (e) {
    throw new Error(`cannot load the comparison libraries (run npm install in bench/, or bash scripts/bench.sh): ${e.message}`);
  }
  sharp.concurrency(1);
  sharp.cache(false);

  const loadBefore = os.loadavg().map((x) => round(x, 2));
  if (loadBefore[0] > os.cpus().length / 2) log(`warning: load average ${loadBefore[0]} on ${os.cpus().length} cores; other work will skew the figures`);
  const token = mintToken("bench");
  // The same inputs as the chains benchmark: generated photo-like JPEGs (bench/fixtures/, made
  // once), or the 12 MP and 48 MP JPEGs of --images DIR.
  const inputs = opts.images ? await imagesFromDir(sharp, opts.images) : await generatedImages(sharp, path.join(benchDir, "fixtures"));

  const rows = [];
  for (const { name, buf } of inputs) {
    log(`${name} (${fmt(buf.length / MIB)} MiB): studio chain and echo in workerd, sharp in Node; ${WARMUP} warm-up + ${opts.runs} runs each, interleaved`);
    const { studio, sharp: s } = await benchStudioAndSharp(name, buf, token, sharp, opts.runs);
    log(`  studio ${fmt(studio.ms)} ms (chain ${fmt(studio.chain_median_ms)} − echo ${fmt(studio.echo_median_ms)}), ${fmt(studio.memory_bytes / MIB)} MiB; sharp ${fmt(s.ms)} ms`);
    rows.push({ image: name, studio, sharp: s, photon: null });
  }
  if (photon) {
    for (const row of rows) {
      const { buf } = inputs.find((i) => i.name === row.image);
      log(`photon-node: ${row.image}, 1 warm-up + ${opts.photonRuns} runs (seconds each)`);
      row.photon = benchPhoton(photon, buf, opts.photonRuns);
      log(`  ${fmt(row.photon.ms)} ms, process peak RSS ${fmt(row.photon.max_rss_bytes / MIB, 0)} MiB`);
    }
  }
  for (const r of rows) {
    r.studio_vs_sharp = r.studio.ms / r.sharp.ms;
    r.photon_vs_studio = r.photon ? r.photon.ms / r.studio.ms : null;
  }

  const result = {
    work: { chain: CHAIN, sharp: `sharp(buf).resize({width: ${WIDTH}, kernel: 'lanczos3'}).jpeg({quality: ${QUALITY}})`, photon: "new_from_byteslice → resize(Lanczos3) → get_bytes_jpeg(80)" },
    runs: opts.runs,
    photon_runs: photon ? opts.photonRuns : 0,
    warmup: WARMUP,
    sharp_concurrency: sharp.concurrency(),
    libvips: sharp.versions.vips,
    load_before: loadBefore,
    machine: machine(root, benchDir),
    width: WIDTH,
    quality: QUALITY,
    rows,
  };
  result.targets = targets(rows);
  const md = markdown(result);
  result.markdown = md;
  writeFileSync(path.join(benchDir, "results.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(md);
  log(`wrote ${path.relative(root, path.join(benchDir, "results.json"))}`);
}

runBench(main, log);
