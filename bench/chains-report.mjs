// The report of bench/chains.mjs: per case the medians of the studio's runs and sharp's, the
// ratios against their targets, where the studio's time went (events and job log lines), as
// Markdown for docs/BENCHMARKS.md and as JSON.

import { MIB, breakdown, fmt, median, round } from "./chains-lib.mjs";

/** The orchestration target: extra end-to-end time per extra no-op step. */
const TARGET_ORCH_MS = 5;

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

export function report(units, presets, pipelines, jobs, opts, m, loadBefore, images) {
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
  const web = ["web", "thumbnail", "avatar"].flatMap((p) => ["12", "48"].map((on) => by[`${p}@${on}`])).filter(Boolean).map((r) => ({ image: `${r.case} ${r.image}`, b: breakdown(jobs, new Set(r.tasks)) }));
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
    "Breakdown of the presets from the consumer's job log lines (per task: sum over its jobs; medians over the timed tasks; ms):",
    "",
    bd,
    "",
    "Outputs (studio / sharp): " + rows.filter((r) => r.output || r.sharp_output).map((r) => `${r.unit} ${out(r.output)} / ${out(r.sharp_output)}`).join("; ") + ".",
    ...(problems.length ? ["", "Notes: " + problems.map((r) => `${r.unit}: ${[r.cached_runs && `${r.cached_runs} runs reused cached results`, r.retries && `${r.retries} step retries`, r.failed.length && `${r.failed.length} failed (${r.failed[0]})`, r.output && r.sharp_output && (r.output.width !== r.sharp_output.width || r.output.height !== r.sharp_output.height) && "output size differs from sharp's"].filter(Boolean).join(", ")}`).join("; ")] : []),
    "",
    `Requests and sockets via ${opts.via === "worker" ? "the Worker's own workerd" : "wrangler dev's proxy"}; dev server state on ${opts.state === "tmpfs" ? "tmpfs" : "disk"}. Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB; load average ${loadBefore.join(" ")} before, ${m.load_average.join(" ")} after; Node ${m.node}; wrangler ${m.wrangler}; sharp ${m.sharp} (libvips ${m.libvips}, concurrency ${m.sharp_concurrency}, cache off); ${m.date}.`,
  ].join("\n");
  return { kind: "end-to-end through the public routes", runs: opts.runs, warmup: opts.warmup, machine: m, load_before: loadBefore,
    inputs: Object.fromEntries(["12", "48"].map((k) => [k, { name: images[k].name, stored: images[k].stored, orientation: images[k].orientation, bytes: images[k].buf.length }])),
    presets, sharp_ops: Object.fromEntries(Object.entries(pipelines).map(([k, p]) => [k, p.ops])), rows, targets, orchestration: orch,
    web_breakdown: web, markdown: md };
}
