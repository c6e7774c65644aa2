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
import { mintToken, onExitStopServers, servers, startServer, stopServer, workerPort } from "./server.mjs";
import {
  MIB, Refused, breakdown, fmt, generatedImages, imagesFromDir, jobLines, jpegVariant, log, median, round, sharpOnce, sharpPipelines, studioClient, tinyPng,
} from "./chains-lib.mjs";

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
const TARGET_ORCH_MS = 5;

function parseArgs(argv) {
  const opts = { runs: 5, warmup: 1, images: null, cases: null, via: "worker" };
  const usage = "usage: node bench/chains.mjs [--runs N (5)] [--warmup N (1)] [--images DIR] [--cases web,thumbnail,avatar,six,bench,orchestration] [--via worker|proxy]";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[++i];
    if (a === "-h" || a === "--help") (console.log(usage), process.exit(0));
    if ((a === "--runs" || a === "--warmup") && Number.isInteger(Number(v)) && Number(v) >= (a === "--runs" ? 1 : 0)) opts[a.slice(2)] = Number(v);
    else if (a === "--images" && v) opts.images = path.resolve(v);
    else if (a === "--cases" && v) opts.cases = v.split(",");
    else if (a === "--via" && ["worker", "proxy"].includes(v)) opts.via = v;
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
  const server = await startServer({ RATE_LIMIT_PER_MINUTE: "100000000" }, ["--log-level", "log"]);
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

// ---------------------------------------------------------------------------------------------
// Report

function summarise(u) {
  const ok = u.runs.filter((r) => r.outcome === "succeeded");
  const failed = u.runs.filter((r) => r.outcome !== "succeeded");
  const med = (f) => median(ok.map(f).filter((x) => x != null));
  const stepsByIndex = ok[0]?.steps.map((s, i) => `${s.op} ${fmt(median(ok.map((r) => r.steps[i]?.duration_ms)), 0)}`) ?? [];
  return {
    unit: u.id, case: u.c.key, group: u.c.group, image: u.image.name, body: u.c.body, refused: u.refused,
    runs: u.runs.length, succeeded: ok.length, failed: failed.map((r) => `${r.outcome}: ${r.error?.message ?? r.error?.code ?? "?"}`),
    cached_runs: u.runs.filter((r) => r.cached).length, retries: u.runs.reduce((s, r) => s + r.retries, 0),
    e2e_ms: med((r) => r.e2e_ms), e2e_runs_ms: u.runs.map((r) => round(r.e2e_ms)),
    step_ms: med((r) => r.step_ms), post_to_queued_ms: med((r) => r.post_to_queued_ms),
    queued_to_first_start_ms: med((r) => r.queued_to_first_start_ms), hops_ms: med((r) => r.hops_ms), last_step_to_terminal_ms: med((r) => r.last_step_to_terminal_ms),
    step_gap_ms: median(ok.flatMap((r) => r.step_gaps_ms)), steps: stepsByIndex.join(", "),
    memory_bytes: Math.max(0, ...ok.map((r) => r.memory_bytes ?? 0)) || null,
    output: ok[0]?.output ?? null, tasks: u.runs.map((r) => r.task),
    sharp_ms: median(u.sharp), sharp_runs_ms: u.sharp.map((x) => round(x)), sharp_output: u.sharpOut,
  };
}

function report(units, presets, pipelines, jobs, opts, m, loadBefore, images) {
  const rows = units.map(summarise);
  const by = Object.fromEntries(rows.map((r) => [r.unit, r]));
  const size = (on) => (on === "tiny" ? "64×64 PNG" : `${on} MP (${images[on].name})`);
  const table = ["| case | image | studio median e2e ms | sharp median ms | studio/sharp | target | met? | max memory MiB |", "|---|---|---:|---:|---:|---|---|---:|"];
  const targets = [];
  const line = (u, name, studioMs, sharpMs, target, limit) => {
    const r = by[u.id];
    let ratio = studioMs != null && sharpMs ? studioMs / sharpMs : null;
    let studioCell = fmt(studioMs), met = ratio == null || !target ? "—" : ratio <= limit ? "met" : "**NOT met**";
    if (r.refused) (ratio = null), (studioCell = `refused: ${r.refused}`), (met = u.c.group === "presets" && u.on === "48" && /413/.test(r.refused) ? "refused (413, accepted)" : target ? "**NOT met**" : "—");
    else if (!r.succeeded) (studioCell = `failed: ${r.failed[0] ?? "no runs"}`), (met = target ? "**NOT met**" : "—");
    else if (r.failed.length) studioCell += ` (${r.failed.length} failed)`;
    table.push(`| ${name} | ${size(u.on)} | ${studioCell} | ${fmt(sharpMs)} | ${ratio == null ? "—" : fmt(ratio, 2) + "×"} | ${target} | ${met} | ${r.memory_bytes ? fmt(r.memory_bytes / MIB) : "—"} |`);
    if (target) targets.push({ case: name, image: u.image.name, value: ratio, target, met });
  };
  for (const u of units) {
    const r = by[u.id];
    if (u.c.group === "presets") line(u, `preset ${u.c.key}`, r.e2e_ms, r.sharp_ms, `≤ ${u.c.target}×`, u.c.target);
    if (u.c.key === "six") line(u, "six", r.e2e_ms, r.sharp_ms, `≤ ${u.c.target}×`, u.c.target);
    if (u.c.key === "bench") {
      line(u, "bench, end to end", r.e2e_ms, r.sharp_ms, "", Infinity);
      line(u, "bench, step time (Σ duration_ms)", r.step_ms, r.sharp_ms, `≤ ${u.c.target}×`, u.c.target);
    }
  }
  let orch = null;
  if (by["orch-1@tiny"] && by["orch-11@tiny"]) {
    const [a, b] = [by["orch-1@tiny"], by["orch-11@tiny"]];
    const perStep = a.e2e_ms != null && b.e2e_ms != null ? (b.e2e_ms - a.e2e_ms) / 10 : null;
    const met = perStep == null ? "**NOT met**" : perStep <= TARGET_ORCH_MS ? "met" : "**NOT met**";
    orch = { e2e_1_ms: a.e2e_ms, e2e_11_ms: b.e2e_ms, per_step_ms: perStep, per_step_from_events_ms: b.step_gap_ms, target_ms: TARGET_ORCH_MS, met };
    table.push(`| orchestration: (e2e(11) − e2e(1)) / 10 per step | 64×64 PNG | ${fmt(perStep)} per step (${fmt(a.e2e_ms)} → ${fmt(b.e2e_ms)}) | — | — | ≤ ${TARGET_ORCH_MS} ms | ${met} | ${fmt(b.memory_bytes / MIB)} |`);
    table.push(`| orchestration: step.succeeded → next step.succeeded (\`at\`) | 64×64 PNG | ${fmt(b.step_gap_ms)} per step | — | — | | | |`);
    targets.push({ case: "orchestration per step", value: perStep, target: `≤ ${TARGET_ORCH_MS} ms`, met });
  }

  // Where the time goes, from the events (medians over the succeeded runs).
  const ev = ["| case | image | POST → task.queued (`at`, approx.) | task.queued → first step.started | Σ step duration_ms | steps (median duration_ms) | Σ step.succeeded → next step.started | last step.succeeded → terminal | e2e |", "|---|---|---:|---:|---:|---|---:|---:|---:|"];
  for (const r of rows.filter((r) => r.succeeded)) {
    ev.push(`| ${r.case} | ${r.image} | ${fmt(r.post_to_queued_ms, 0)} | ${fmt(r.queued_to_first_start_ms, 0)} | ${fmt(r.step_ms, 0)} | ${r.steps} | ${fmt(r.hops_ms, 0)} | ${fmt(r.last_step_to_terminal_ms, 0)} | ${fmt(r.e2e_ms, 0)} |`);
  }
  // The consumer's job log lines for the timed web-preset runs.
  const web = ["12", "48"].map((on) => by[`web@${on}`]).filter(Boolean).map((r) => ({ image: r.image, b: breakdown(jobs, new Set(r.tasks)) }));
  const order = ["queue_wait_ms", "load_ms", "decode_ms", "steps_ms", "encode_ms", "store_ms", "object_ms", "total_ms"];
  const keys = [...new Set(web.flatMap((w) => Object.keys(w.b?.median_ms ?? {})))].sort((a, b) => ((order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99)));
  const bd = web.some((w) => w.b)
    ? [`| image | ${keys.join(" | ")} | tasks | job lines per task | outcomes |`, `|---|${keys.map(() => "---:|").join("")}---:|---:|---|`,
      ...web.map((w) => `| ${w.image} | ${keys.map((k) => fmt(w.b?.median_ms[k])).join(" | ")} | ${w.b?.tasks ?? 0} | ${w.b ? fmt(w.b.jobs_per_task, 0) : "—"} | ${w.b ? JSON.stringify(w.b.outcomes) : "no job lines"} |`)].join("\n")
    : `breakdown: not available (no \`{"event":"job",…}\` lines among the ${jobs.consoleLines} JSON lines of wrangler's log)`;

  const problems = rows.filter((r) => r.cached_runs || r.retries || r.failed.length || (r.output && r.sharp_output && (r.output.width !== r.sharp_output.width || r.output.height !== r.sharp_output.height)));
  const out = (o) => (o ? `${o.width}×${o.height} ${o.content_type ?? o.format ?? ""} ${o.bytes < 10240 ? `${o.bytes} B` : `${fmt(o.bytes / 1024, 0)} KiB`}` : "—");
  const md = [
    `## Chains, END TO END through the public routes (POST /tasks → terminal WebSocket event) vs sharp in-process`,
    "",
    `Medians of ${opts.runs} timed runs after ${opts.warmup} warm-up run(s); every task on its own upload (distinct bytes, no result reuse); studio and sharp interleaved.`,
    "",
    ...table,
    "",
    `Presets as served by GET /presets: ${presets.map((p) => `${p.name} = ${p.steps.map((s) => s.op + (s.width ? ` ${s.width}${s.height ? "×" + s.height : ""}${s.fit ? " " + s.fit : ""}` : s.format ? ` ${s.format}${s.quality ? " q" + s.quality : ""}` : "")).join(" → ")}`).join("; ")}.`,
    "",
    "sharp operations matched:",
    ...Object.entries(pipelines).map(([k, p]) => `- ${k}: ${p.ops}`),
    "",
    "Memory = the largest `memory_bytes` of the case's step.succeeded events: the wasm memory high-water mark of the isolate that ran the step, " +
      "which is shared by every task it ran before (so it includes the earlier cases' peaks).",
    "",
    "Where the studio's time goes (from the events' `at`, ms resolution; medians):",
    "",
    ...ev,
    "",
    "Breakdown of the web preset from the consumer's job log lines (per task: sum over its jobs; medians over the timed tasks; ms):",
    "",
    bd,
    "",
    "Outputs (studio / sharp): " + rows.filter((r) => r.output || r.sharp_output).map((r) => `${r.unit} ${out(r.output)} / ${out(r.sharp_output)}`).join("; ") + ".",
    ...(problems.length ? ["", "Notes: " + problems.map((r) => `${r.unit}: ${[r.cached_runs && `${r.cached_runs} runs reused cached results`, r.retries && `${r.retries} step retries`, r.failed.length && `${r.failed.length} failed (${r.failed[0]})`, r.output && r.sharp_output && (r.output.width !== r.sharp_output.width || r.output.height !== r.sharp_output.height) && "output size differs from sharp's"].filter(Boolean).join(", ")}`).join("; ")] : []),
    "",
    `Requests and sockets via ${opts.via === "worker" ? "the Worker's own workerd" : "wrangler dev's proxy"}. Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB; load average ${loadBefore.join(" ")} before, ${m.load_average.join(" ")} after; Node ${m.node}; wrangler ${m.wrangler}; sharp ${m.sharp} (libvips ${m.libvips}, concurrency ${m.sharp_concurrency}, cache off); ${m.date}.`,
  ].join("\n");
  return { kind: "end-to-end through the public routes", runs: opts.runs, warmup: opts.warmup, machine: m, load_before: loadBefore,
    inputs: Object.fromEntries(["12", "48"].map((k) => [k, { name: images[k].name, stored: images[k].stored, orientation: images[k].orientation, bytes: images[k].buf.length }])),
    presets, sharp_ops: Object.fromEntries(Object.entries(pipelines).map(([k, p]) => [k, p.ops])), rows, targets, orchestration: orch,
    web_breakdown: web, markdown: md };
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
