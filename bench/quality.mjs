// QUALITY benchmark: the studio's lossy encoders against their peers at EQUAL SSIM, end to end
// through the public routes.
//
//   node bench/quality.mjs [--images DIR] [--webp 50,65,75,85,95] [--jpeg 50,80,95] [--timing-runs 3] [--timing-only]
//                                               (wired as `bash scripts/bench.sh quality`)
//
// Each input is a 1600-px-wide PNG (two generated photo-like images, plus every .jpg/.png of
// --images DIR reduced to 1600 px wide by libvips), uploaded once. For each quality the studio
// runs the chain [{"op":"encode","format":"webp"|"jpeg","quality":q}] (POST /tasks, terminal event
// on the task's WebSocket, GET /tasks/{id}/download); the download is decoded by libvips and its
// SSIM (bench/ssim.mjs, luma) taken against the PNG's pixels. The peers encode the same pixels:
// cwebp (libwebp, Debian's `webp`, method 4 like ours) and libjpeg-turbo through sharp, on a grid
// of qualities refined by bisection around each of the studio's SSIMs (bench/quality-lib.mjs);
// the peer's bytes at the studio's SSIM are interpolated between its two adjacent qualities.
// Encode time: the consumer's `encode_ms` (the encode step inside workerd, from its job log line)
// against cwebp's own "Time to encode picture" and sharp's in-process encode from raw pixels.
// Writes bench/quality-results.json and prints a markdown summary.

import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { crc32 } from "node:zlib";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mintToken, runBench, startServer, stopServer, workerPort } from "./server.mjs";
import { fmt, jobLines, log, median, round, studioClient } from "./chains-lib.mjs";
import { bytesAtSsim, cwebp, geomean, inputs, peerCurve, reference, sharpJpeg, ssimOf } from "./quality-lib.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, "..");
const require = createRequire(import.meta.url);
const TARGET_RATIO = 1.25;
const EQUAL_SSIM = 0.002;

function parseArgs(argv) {
  const opts = { images: null, webp: [50, 65, 75, 85, 95], jpeg: [50, 80, 95], timingRuns: 3, timingOnly: false };
  const qs = (v) => v.split(",").map(Number).filter((q) => Number.isInteger(q) && q >= 1 && q <= 100);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--timing-only") {
      opts.timingOnly = true;
      continue;
    }
    const v = argv[++i];
    if (a === "--images" && v) opts.images = path.resolve(v);
    else if ((a === "--webp" || a === "--jpeg") && v && qs(v).length) opts[a.slice(2)] = qs(v);
    else if (a === "--timing-runs" && Number(v) >= 1) opts.timingRuns = Number(v);
    else throw new Error(`bad argument ${a} ${v ?? ""}\nusage: node bench/quality.mjs [--images DIR] [--webp Q,Q,…] [--jpeg Q,Q,…] [--timing-runs N] [--timing-only]`);
  }
  return opts;
}

// A copy of `png` with a tEXt chunk naming `tag` before IEND: distinct bytes, same pixels, so the
// studio's reuse of an identical (image, chain) result never turns a timed encode into a hit.
function pngVariant(png, tag) {
  const data = Buffer.concat([Buffer.from("tEXt"), Buffer.from(`Comment\0${tag}`, "latin1")]);
  const chunk = Buffer.alloc(data.length + 8);
  chunk.writeUInt32BE(data.length - 4, 0);
  data.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(data), data.length + 4);
  const iend = png.length - 12;
  return Buffer.concat([png.subarray(0, iend), chunk, png.subarray(iend)]);
}

// One studio encode through the public routes: the task, its download and its figures.
async function studioEncode(studio, port, token, imageId, format, quality) {
  const r = await studio.run({ images: [imageId], steps: [{ op: "encode", format, quality }] });
  if (r.outcome !== "succeeded") throw new Error(`task ${r.task} ${r.outcome}: ${JSON.stringify(r.error)}`);
  const res = await fetch(`http://127.0.0.1:${port}/tasks/${r.task}/download`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET /tasks/${r.task}/download answered ${res.status}`);
  return { task: r.task, bytes: Buffer.from(await res.arrayBuffer()), e2e_ms: r.e2e_ms };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(path.join(root, "build/worker/shim.mjs"))) throw new Error("build/worker/shim.mjs is missing: run bash scripts/bench.sh quality");
  const sharp = require("sharp");
  sharp.concurrency(1);
  sharp.cache(false);
  const images = await inputs(sharp, path.join(benchDir, "fixtures"), opts.images);
  log(`inputs: ${images.map((i) => i.name).join(", ")}`);

  const server = await startServer({ RATE_LIMIT_PER_MINUTE: "100000000" }, ["--log-level", "log"]);
  const port = await workerPort(server);
  const token = mintToken("quality-bench");
  const studio = studioClient(port, token);
  const rows = [];
  const timing = { webp: [], cwebp: [], jpeg: [], sharp: [] };
  let cwebpVersion = null;
  for (const img of images) {
    const ref = await reference(sharp, img.png);
    const score = (bytes) => ssimOf(sharp, ref, bytes);
    for (const format of ["webp", "jpeg"]) {
      const ours = [];
      // A distinct upload per format: the studio reuses a finished task's result for the same chain.
      const id = await studio.upload(pngVariant(img.png, `${format} sweep ${Date.now()}`), "image/png");
      for (const q of opts.timingOnly ? [] : opts[format]) {
        const out = await studioEncode(studio, port, token, id, format, q);
        ours.push({ q, task: out.task, bytes: out.bytes.length, ssim: await score(out.bytes), e2e_ms: out.e2e_ms });
      }
      const peer = format === "webp" ? cwebp(img.png) : sharpJpeg(sharp, ref);
      cwebpVersion ??= format === "webp" ? peer.version : null;
      const curve = opts.timingOnly ? [] : await peerCurve((q) => peer.encode(q), score, ours.map((o) => o.ssim));
      for (const o of ours) {
        const match = bytesAtSsim(curve, o.ssim);
        const same = curve.find((p) => p.q === o.q);
        rows.push({ image: img.name, width: ref.width, height: ref.height, format, ...o, peer_same_q: same ?? null,
          peer_bytes_at_ssim: match && round(match.bytes, 0), peer_between_q: match?.between ?? null,
          peer_nearest_ssim_delta: match && round(match.nearest, 4), ratio: match && round(o.bytes / match.bytes, 3) });
      }
      // Encode time at quality 80 (the thumbnail preset's and the usual web setting).
      if (ref.width === 1600 && ref.height === 1200) {
        for (let r = 0; r < opts.timingRuns; r++) {
          const tid = await studio.upload(pngVariant(img.png, `${format} timing ${r} ${Date.now()}`), "image/png");
          const out = await studioEncode(studio, port, token, tid, format, 80);
          timing[format].push({ task: out.task, image: img.name });
          timing[format === "webp" ? "cwebp" : "sharp"].push((await peer.encode(80)).ms);
        }
      }
      peer.close?.();
      log(`${img.name} ${format}: ${rows.filter((r) => r.image === img.name && r.format === format).map((r) => `q${r.q} ${r.bytes} B ssim ${r.ssim.toFixed(4)} ratio ${r.ratio ?? "—"}`).join("; ")}`);
    }
  }
  const jobs = jobLines(readFileSync(server.logFile, "utf8"));
  await stopServer(server);
  const encodeMs = (tasks) => median(tasks.map((t) => jobs.filter((j) => j.task === t.task).reduce((s, j) => s + (j.timings?.encode_ms ?? 0), 0)));
  const times = {
    webp_ms: encodeMs(timing.webp), cwebp_ms: round(median(timing.cwebp), 1),
    jpeg_ms: encodeMs(timing.jpeg), sharp_jpeg_ms: round(median(timing.sharp), 1), runs: timing.webp.length,
  };
  const result = report(rows, times, { cwebp: cwebpVersion, sharp: sharp.versions.sharp, libvips: sharp.versions.vips, opts });
  writeFileSync(path.join(benchDir, "quality-results.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(result.markdown);
}

function report(rows, times, v) {
  const summary = (format) => {
    const matched = rows.filter((r) => r.format === format && r.ratio != null);
    return { points: matched.length, of: rows.filter((r) => r.format === format).length, geomean_ratio: round(geomean(matched.map((r) => r.ratio)), 3),
      worst_ratio: matched.length ? Math.max(...matched.map((r) => r.ratio)) : null,
      equal_ssim_points: matched.filter((r) => r.peer_nearest_ssim_delta <= EQUAL_SSIM).length };
  };
  const webp = summary("webp"), jpeg = summary("jpeg");
  const peerName = (f) => (f === "webp" ? "cwebp" : "sharp (libjpeg-turbo)");
  const table = (format) => [
    `| image | q | ours bytes | ours SSIM | ${peerName(format)} bytes at same q (SSIM) | ${peerName(format)} bytes at our SSIM (between q) | ratio |`,
    "|---|---:|---:|---:|---:|---:|---:|",
    ...rows.filter((r) => r.format === format).map((r) => `| ${r.image} | ${r.q} | ${fmt(r.bytes, 0)} | ${r.ssim.toFixed(4)} | ${r.peer_same_q ? `${fmt(r.peer_same_q.bytes, 0)} (${r.peer_same_q.ssim.toFixed(4)})` : "—"} | ${r.peer_bytes_at_ssim == null ? "out of range" : `${fmt(r.peer_bytes_at_ssim, 0)} (q${r.peer_between_q.join("–")})`} | ${r.ratio == null ? "—" : `${r.ratio.toFixed(3)}×`} |`),
  ];
  const verdict = (s) => `${s.points}/${s.of} points matched (${s.equal_ssim_points} with a peer encode within ±${EQUAL_SSIM} SSIM); geometric mean ${s.geomean_ratio}×, worst ${s.worst_ratio}× (target ≤ ${TARGET_RATIO}×: ${s.worst_ratio != null && s.worst_ratio <= TARGET_RATIO ? "met" : "not met"})`;
  const md = [
    "### Lossy WebP: studio (libwebp in wasm, in workerd) vs cwebp, bytes at equal SSIM",
    "", verdict(webp), "", ...table("webp"), "",
    "### JPEG: studio (our encoder, in workerd) vs libjpeg-turbo (sharp), bytes at equal SSIM",
    "", verdict(jpeg), "", ...table("jpeg"), "",
    `Encode time, 1600×1200, quality 80, median of ${times.runs} tasks (${v.opts.timingRuns} per input): studio WebP ${fmt(times.webp_ms, 0)} ms vs cwebp ${fmt(times.cwebp_ms, 0)} ms; ` +
      `studio JPEG ${fmt(times.jpeg_ms, 0)} ms vs sharp ${fmt(times.sharp_jpeg_ms, 0)} ms (studio: the consumer's encode_ms in workerd; cwebp: its own encode time; sharp: in-process from raw pixels, one thread).`,
    "", `Peers: ${v.cwebp ? `cwebp ${v.cwebp}` : "cwebp"}, sharp ${v.sharp} (libvips ${v.libvips}). Machine: ${os.cpus()[0]?.model?.trim()}, ${os.cpus().length} cores, load ${os.loadavg().map((x) => round(x, 2)).join(" ")}; ${new Date().toISOString()}.`,
  ].join("\n");
  return { kind: "end-to-end through the public routes (studio) vs peers on the same pixels", webp, jpeg, times, rows, versions: v, markdown: md };
}

runBench(main, log);
