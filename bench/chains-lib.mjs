// Helpers of bench/chains.mjs (the end-to-end chains benchmark): the sharp equivalents of the
// studio's chains, one task timed through the public routes (POST /tasks → terminal event on the
// task's WebSocket), the consumer's log lines, stats. The inputs are bench/inputs.mjs.

import { performance } from "node:perf_hooks";

export const log = (...a) => console.error("[bench]", ...a);
export const MIB = 1024 * 1024;

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const round = (x, d = 1) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
export const fmt = (x, d = 1) => (x == null || !Number.isFinite(x) ? "—" : x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }));

// ---------------------------------------------------------------------------------------------
// sharp equivalents. `dims` = the displayed (auto-oriented) size of the input, known before
// timing; the overlays' SVG strings are built outside the timed part, librsvg renders them inside.

export function sharpPipelines(sharp) {
  const vignetteSvg = (w, h) => {
    // The studio's vignette: no change inside `radius` 0.5 of the centre-to-corner distance, then
    // darker to `strength` 0.5 at the corners.
    const r = Math.hypot(w, h) / 2;
    return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs>` +
      `<radialGradient id="v" gradientUnits="userSpaceOnUse" cx="${w / 2}" cy="${h / 2}" r="${r}">` +
      `<stop offset="0.5" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.5"/></radialGradient></defs>` +
      `<rect width="${w}" height="${h}" fill="url(#v)"/></svg>`);
  };
  const textSvg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40">' +
    '<text x="0" y="30" font-family="Roboto, sans-serif" font-size="32" fill="#ffffff">Stellar</text></svg>');
  return {
    web: { ops: "rotate() → resize(1600, 1600, {fit: inside, kernel: lanczos3}) → sharpen() → jpeg({quality: 80})",
      run: (buf) => sharp(buf).rotate().resize(1600, 1600, { fit: "inside", kernel: "lanczos3" }).sharpen().jpeg({ quality: 80 }) },
    thumbnail: { ops: "rotate() → resize(256, 256, {fit: cover}) → webp({quality: 80})",
      run: (buf) => sharp(buf).rotate().resize(256, 256, { fit: "cover" }).webp({ quality: 80 }) },
    avatar: { ops: "rotate() → resize(512, 512, {fit: cover}) → png()",
      run: (buf) => sharp(buf).rotate().resize(512, 512, { fit: "cover" }).png() },
    six: { ops: "rotate() → resize({width: 1600}) → sharpen() → modulate({saturation: 1.2}) → composite([radial-gradient SVG (vignette), SVG text \"Stellar\" 32 px, north-west]) → jpeg({quality: 80})",
      prepare: (dims) => {
        const w = 1600, h = Math.round((dims.height * 1600) / dims.width);
        return { vignette: vignetteSvg(w, h) };
      },
      run: (buf, prep) => sharp(buf).rotate().resize({ width: 1600 }).sharpen().modulate({ saturation: 1.2 })
        .composite([{ input: prep.vignette }, { input: textSvg, gravity: "northwest" }]).jpeg({ quality: 80 }) },
    bench: { ops: "rotate() → resize({width: 1600, kernel: lanczos3}) → jpeg({quality: 80})",
      run: (buf) => sharp(buf).rotate().resize({ width: 1600, kernel: "lanczos3" }).jpeg({ quality: 80 }) },
  };
}

export async function sharpOnce(pipeline, buf, prep) {
  const t0 = performance.now();
  const { info } = await pipeline.run(buf, prep).toBuffer({ resolveWithObject: true });
  return { ms: performance.now() - t0, output: { width: info.width, height: info.height, bytes: info.size, format: info.format } };
}

// ---------------------------------------------------------------------------------------------
// The studio through its public routes

export class Refused extends Error {}

export function studioClient(port, token) {
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, route, body, type = "application/json") => {
    const res = await fetch(base + route, { method, body, headers: { authorization: `Bearer ${token}`, "content-type": type }, signal: AbortSignal.timeout(300_000) });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = { raw: text };
    }
    return { status: res.status, json };
  };
  return {
    async get(route) {
      const { status, json } = await call("GET", route);
      if (status !== 200) throw new Error(`GET ${route} answered ${status}: ${JSON.stringify(json)}`);
      return json;
    },
    async upload(buf, type) {
      const { status, json } = await call("POST", "/images", buf, type);
      if (status === 413) throw new Refused(`${json.error?.code ?? 413}: ${json.error?.message ?? JSON.stringify(json)}`);
      if (status >= 300) throw new Error(`POST /images answered ${status}: ${JSON.stringify(json)}`);
      return json.id;
    },
    // One task: wall time from just before POST /tasks to the receipt of the terminal event on
    // the task's WebSocket (opened right after the 202, replaying from since=0).
    async run(body) {
      const t0 = performance.now(), wall0 = Date.now();
      const { status, json } = await call("POST", "/tasks", JSON.stringify(body));
      if (status === 413 || status === 400) throw new Refused(`${status} ${json.error?.code ?? ""}: ${json.error?.message ?? JSON.stringify(json)}`);
      if (status !== 202 && status !== 200) throw new Error(`POST /tasks answered ${status}: ${JSON.stringify(json)}`);
      const url = new URL(json.links.ws);
      url.host = `127.0.0.1:${port}`;
      url.searchParams.set("since", "0");
      const events = await taskEvents(url.href);
      const end = events[events.length - 1];
      return { task: json.id, e2e_ms: end.rx - t0, ...eventFigures(events, wall0) };
    },
  };
}

const TERMINAL = new Set(["task.succeeded", "task.failed", "task.cancelled"]);

function taskEvents(url) {
  return new Promise((resolve, reject) => {
    const events = [];
    const ws = new WebSocket(url);
    const timer = setTimeout(() => (ws.close(), reject(new Error(`${url}: no terminal event within 600 s`))), 600_000);
    ws.onmessage = (m) => {
      const rx = performance.now();
      if (m.data === "pong") return;
      const e = JSON.parse(m.data);
      e.rx = rx;
      events.push(e);
      if (TERMINAL.has(e.type)) clearTimeout(timer), resolve(events), ws.close();
    };
    ws.onerror = (e) => (clearTimeout(timer), reject(new Error(`WebSocket ${url}: ${e.message ?? "error"}`)));
    ws.onclose = (e) => (clearTimeout(timer), reject(new Error(`WebSocket closed (${e.code}) before the terminal event`)));
  });
}

// What the events of one task tell: outcome, step work, memory, and where the wall time went
// (from the events' `at`, stamped by the task's object with ms resolution).
function eventFigures(events, wall0) {
  const at = (e) => Date.parse(e.at);
  const end = events[events.length - 1];
  const done = events.filter((e) => e.type === "step.succeeded");
  const queued = events.find((e) => e.type === "task.queued");
  const firstStart = events.find((e) => e.type === "step.started");
  const gaps = done.slice(1).map((e, i) => at(e) - at(done[i]));
  // Between steps: step.succeeded[i-1] → step.started[i] (queue hop and object round trips).
  const started = new Map(events.filter((e) => e.type === "step.started").map((e) => [`${e.image}/${e.step}`, at(e)]));
  const hops = done.map((e) => started.get(`${e.image}/${e.step + 1}`) - at(e)).filter((x) => Number.isFinite(x));
  return {
    outcome: end.type.replace("task.", ""),
    error: end.error ?? null,
    output: end.outputs?.[0] ?? null,
    step_ms: done.reduce((s, e) => s + (e.duration_ms ?? 0), 0),
    steps: done.map((e) => ({ op: e.op, duration_ms: e.duration_ms, memory_bytes: e.memory_bytes, cached: e.cached === true })),
    memory_bytes: Math.max(0, ...done.map((e) => e.memory_bytes ?? 0)) || null,
    cached: done.some((e) => e.cached === true),
    retries: events.filter((e) => e.type === "step.retrying").length,
    // Node's clock vs the object's: same machine, so comparable to ~1 ms.
    post_to_queued_ms: queued ? at(queued) - wall0 : null,
    queued_to_first_start_ms: queued && firstStart ? at(firstStart) - at(queued) : null,
    last_step_to_terminal_ms: done.length ? at(end) - at(done[done.length - 1]) : null,
    step_gaps_ms: gaps, // `at` of consecutive step.succeeded events
    hops_ms: hops.reduce((a, b) => a + b, 0),
  };
}

// ---------------------------------------------------------------------------------------------
// The consumer's per-job log lines ({"event":"job","task":…,"timings":{…}}), from wrangler's log.

export function jobLines(logText) {
  const out = [];
  let consoleLines = 0;
  for (const line of logText.split("\n")) {
    const i = line.indexOf("{"), j = line.lastIndexOf("}");
    if (i < 0 || j < i || !line.includes('"event"')) continue;
    try {
      const o = JSON.parse(line.slice(i, j + 1));
      consoleLines++;
      if (o.event === "job") out.push(o);
    } catch {
      /* not one whole JSON object on this line */
    }
  }
  out.consoleLines = consoleLines; // JSON log lines of any kind: shows console.log reached the log
  return out;
}

// Per task: the sum of each numeric field over its jobs (one job per task, or one per step);
// then the median over tasks.
export function breakdown(lines, taskIds) {
  const per = new Map();
  for (const l of lines) {
    if (!taskIds.has(l.task)) continue;
    const acc = per.get(l.task) ?? { jobs: 0, outcomes: [], fields: {} };
    acc.jobs++;
    acc.outcomes.push(l.outcome);
    const add = (k, v) => Number.isFinite(v) && (acc.fields[k] = (acc.fields[k] ?? 0) + v);
    add("queue_wait_ms", l.queue_wait_ms);
    for (const [k, v] of Object.entries(l.timings ?? {})) add(k, v);
    per.set(l.task, acc);
  }
  if (!per.size) return null;
  const tasks = [...per.values()];
  const keys = [...new Set(tasks.flatMap((t) => Object.keys(t.fields)))];
  return {
    tasks: tasks.length,
    jobs_per_task: median(tasks.map((t) => t.jobs)),
    outcomes: tasks.flatMap((t) => t.outcomes).reduce((o, k) => ((o[k] = (o[k] ?? 0) + 1), o), {}),
    median_ms: Object.fromEntries(keys.map((k) => [k, round(median(tasks.map((t) => t.fields[k])), 1)])),
  };
}
