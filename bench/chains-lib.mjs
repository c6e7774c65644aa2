// Helpers of bench/chains.mjs (the end-to-end chains benchmark): the generated inputs, distinct
// upload variants, the sharp equivalents of the studio's chains, one task timed through the public
// routes (POST /tasks → terminal event on the task's WebSocket), the consumer's log lines, stats.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
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
// Generated inputs: photo-like baseline JPEGs (4:2:0, q90) with EXIF Orientation 6, made once
// and cached in bench/fixtures/ (gitignored). Deterministic: the same bytes on every machine
// with the same sharp. Content: a sky-to-ground gradient, large soft colour blobs, three octaves
// of value noise (texture) and per-pixel sensor noise, so it compresses like a photo (~3 MB at 12 MP).

const FIXTURE_VERSION = 1;
export const GENERATED = [
  { name: "photo-12mp.jpg", width: 4000, height: 3000 },
  { name: "photo-48mp.jpg", width: 8000, height: 6000 },
];

function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function photoPixels(W, H, seed) {
  const rnd = prng(seed);
  const px = new Uint8ClampedArray(W * H * 3); // clamps (a Buffer would wrap modulo 256)
  // Soft blobs: separable Gaussians, in relative coordinates so both sizes look alike.
  const blobs = Array.from({ length: 7 }, () => {
    const cx = rnd() * W, cy = rnd() * H, s = (0.08 + rnd() * 0.2) * W;
    const gx = Float32Array.from({ length: W }, (_, x) => Math.exp(-(((x - cx) / s) ** 2)));
    const gy = Float32Array.from({ length: H }, (_, y) => Math.exp(-(((y - cy) / s) ** 2)));
    return { gx, gy, c: [rnd() * 140 - 70, rnd() * 140 - 70, rnd() * 140 - 70] };
  });
  // Value noise: random grids at 48 and 9 px spacing, bilinearly interpolated.
  const octaves = [{ step: 48, amp: 26 }, { step: 9, amp: 14 }, { step: 3, amp: 16 }].map(({ step, amp }) => {
    const gw = Math.ceil(W / step) + 2, gh = Math.ceil(H / step) + 2;
    const grid = Float32Array.from({ length: gw * gh }, () => (rnd() - 0.5) * amp);
    const ix = Int32Array.from({ length: W }, (_, x) => Math.floor(x / step));
    const fx = Float32Array.from({ length: W }, (_, x) => x / step - Math.floor(x / step));
    return { step, gw, grid, ix, fx };
  });
  const noise = Float32Array.from({ length: 1 << 16 }, () => (rnd() + rnd() + rnd() - 1.5) * 11); // sensor noise, σ≈5.5
  let n = 0;
  const sky = [[70, 120, 190], [225, 205, 175]], ground = [[95, 110, 60], [45, 55, 35]];
  for (let y = 0; y < H; y++) {
    const v = y / H, horizon = 0.55;
    const [a, b, t] = v < horizon ? [sky[0], sky[1], v / horizon] : [ground[0], ground[1], (v - horizon) / (1 - horizon)];
    const base = [0, 1, 2].map((c) => a[c] + (b[c] - a[c]) * t);
    const rows = octaves.map((o) => {
      const gy = Math.floor(y / o.step), fy = y / o.step - gy;
      return { o, r0: gy * o.gw, r1: (gy + 1) * o.gw, fy };
    });
    for (let x = 0; x < W; x++) {
      let tex = 0;
      for (const { o, r0, r1, fy } of rows) {
        const i = o.ix[x], f = o.fx[x], g = o.grid;
        const top = g[r0 + i] + (g[r0 + i + 1] - g[r0 + i]) * f, bot = g[r1 + i] + (g[r1 + i + 1] - g[r1 + i]) * f;
        tex += top + (bot - top) * fy;
      }
      let r = base[0] + tex, gg = base[1] + tex, bb = base[2] + tex * 0.8;
      for (const bl of blobs) {
        const w = bl.gx[x] * bl.gy[y];
        r += bl.c[0] * w, gg += bl.c[1] * w, bb += bl.c[2] * w;
      }
      const o3 = (y * W + x) * 3;
      px[o3] = r + noise[n++ & 0xffff];
      px[o3 + 1] = gg + noise[(n += 7) & 0xffff];
      px[o3 + 2] = bb + noise[(n += 13) & 0xffff];
    }
  }
  return Buffer.from(px.buffer);
}

// `names`: which of GENERATED (all by default; bench/render.mjs needs only the 12 MP one).
export async function generatedImages(sharp, dir, names = GENERATED.map((g) => g.name)) {
  mkdirSync(dir, { recursive: true });
  const out = [];
  for (const [i, g] of GENERATED.entries()) {
    if (!names.includes(g.name)) continue;
    const file = path.join(dir, `v${FIXTURE_VERSION}-${g.name}`);
    if (!existsSync(file)) {
      log(`generating ${path.basename(file)} (${g.width}×${g.height}, once; cached in ${dir})`);
      const px = photoPixels(g.width, g.height, 1234 + i);
      const buf = await sharp(px, { raw: { width: g.width, height: g.height, channels: 3 } })
        .withMetadata({ orientation: 6 }) // stored landscape, shown portrait, as phones do
        .jpeg({ quality: 90, chromaSubsampling: "4:2:0", progressive: false, mozjpeg: false })
        .toBuffer();
      writeFileSync(file + ".tmp", buf);
      renameSync(file + ".tmp", file);
    }
    out.push({ name: g.name, file, buf: readFileSync(file) });
  }
  return out;
}

// --images DIR: the 12 MP and 48 MP JPEGs of DIR, by name (*12mp*, *48mp*, "photo" first),
// else by pixel count.
export async function imagesFromDir(sharp, dir) {
  const files = readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort((a, b) => (/photo/i.test(b) - /photo/i.test(a)) || a.localeCompare(b));
  if (!files.length) throw new Error(`--images ${dir}: no .jpg files there`);
  const meta = [];
  for (const f of files) {
    const m = await sharp(path.join(dir, f)).metadata();
    meta.push({ f, px: m.width * m.height });
  }
  const pick = (tag, px) => meta.find((m) => new RegExp(tag, "i").test(m.f)) ?? [...meta].sort((a, b) => Math.abs(a.px - px) - Math.abs(b.px - px))[0];
  return [pick("12mp", 12e6), pick("48mp", 48e6)].map((m, i) => ({ name: m.f, file: path.join(dir, m.f), buf: readFileSync(path.join(dir, m.f)), size: i ? "48 MP" : "12 MP" }));
}

// A distinct variant of a JPEG: a COM segment holding `tag` after the leading APPn segments
// (EXIF must stay first after SOI for readers that look only there). Pixels are unchanged.
export function jpegVariant(buf, tag) {
  if (buf[0] !== 0xff || buf[1] !== 0xd8) throw new Error("not a JPEG (no SOI)");
  let pos = 2;
  while (pos + 4 <= buf.length && buf[pos] === 0xff && buf[pos + 1] >= 0xe0 && buf[pos + 1] <= 0xef) pos += 2 + buf.readUInt16BE(pos + 2);
  const text = Buffer.from(`stellar-bench ${tag}`, "latin1");
  const com = Buffer.alloc(4);
  com.writeUInt16BE(0xfffe, 0);
  com.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([buf.subarray(0, pos), com, text, buf.subarray(pos)]);
}

// The orchestration case's tiny input: a 64×64 PNG whose colour encodes `n` (distinct bytes).
export function tinyPng(sharp, n) {
  return sharp({ create: { width: 64, height: 64, channels: 3, background: { r: n & 255, g: (n >> 8) & 255, b: (n >> 16) & 255 } } }).png().toBuffer();
}

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
    thumbnail: { ops: "rotate() → resize(256, 256, {fit: cover}) → webp({lossless: true})",
      run: (buf) => sharp(buf).rotate().resize(256, 256, { fit: "cover" }).webp({ lossless: true }) },
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
