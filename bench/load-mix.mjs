// The load bench's clients and their request mix (bench/load.mjs): the same seeded mix is sent
// to the studio and to the plain-JS control Worker (bench/control/), through the same public
// routes. A client belongs to one tenant; it uploads small PNGs, creates tasks on its images,
// polls, lists, downloads its finished tasks, and opens WebSocket subscribers on its tasks.

import zlib from "node:zlib";

export const TERMINAL = new Set(["task.succeeded", "task.failed", "task.cancelled"]);
export const ENDED = new Set(["succeeded", "failed", "cancelled"]);
const log = (...a) => console.error("[load]", ...a);
// Weighted mix of the clients' requests (subscribers are extra, spread evenly).
const MIX = [["upload", 10], ["create", 10], ["poll", 35], ["list_images", 7], ["list_tasks", 8], ["download", 30]];

// mulberry32: a small seeded PRNG, so two runs send the same mix.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

// A w×h RGB PNG whose pixels derive from `n` (distinct bytes per upload: no result reuse).
function png(w, h, n) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const head = Buffer.alloc(4), crc = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0), ihdr.writeUInt32BE(h, 4), ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set([(x * 7 + n) & 255, (y * 5 + (n >> 8)) & 255, (x ^ y ^ n) & 255], y * (w * 3 + 1) + 1 + x * 3);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : null);
export const r1 = (x) => (x == null ? null : Math.round(x * 10) / 10);

export class Stats {
  constructor() {
    this.routes = new Map();
    this.problems = [];
  }
  add(route, status, ms, bytes = 0) {
    const r = this.routes.get(route) ?? { ms: [], status: {}, bytes: 0 };
    this.routes.set(route, r);
    r.ms.push(ms);
    r.bytes += bytes;
    r.status[status] = (r.status[status] ?? 0) + 1;
    if (status === "error" || status >= 500 || status === 429) this.problems.push(`${route}: ${status}`);
  }
  table(seconds) {
    const rows = [...this.routes].map(([route, r]) => {
      const ms = [...r.ms].sort((a, b) => a - b);
      return { route, requests: ms.length, per_s: r1(ms.length / seconds), p50_ms: r1(pct(ms, 50)), p99_ms: r1(pct(ms, 99)), max_ms: r1(ms.at(-1)), response_bytes: r.bytes, status: r.status };
    });
    return rows.sort((a, b) => b.requests - a.requests);
  }
}

export function makeClient(i, opts, tokens, port) {
  const tenant = `load-${i % opts.tenants}`;
  return { i, tenant, token: tokens[tenant], base: `http://127.0.0.1:${port}`, port, rand: rng(opts.seed * 1000 + i), images: [], tasks: [], done: [], spent: 0 };
}

export async function call(c, stats, route, method, url, { body, type, cost = 1 } = {}) {
  c.spent += cost;
  const t0 = performance.now();
  try {
    const res = await fetch(c.base + url, { method, body, headers: { authorization: `Bearer ${c.token}`, ...(type ? { "content-type": type } : {}) }, signal: AbortSignal.timeout(60_000) });
    const buf = await res.arrayBuffer();
    stats?.add(route, res.status, performance.now() - t0, buf.byteLength);
    const json = (res.headers.get("content-type") ?? "").includes("json") ? JSON.parse(Buffer.from(buf).toString("utf8")) : null;
    return { status: res.status, json };
  } catch (e) {
    stats?.add(route, "error", performance.now() - t0);
    return { status: "error", json: { error: e.message } };
  }
}

const pick = (c, xs) => xs[Math.floor(c.rand() * xs.length)];

async function act(c, stats, all) {
  const total = MIX.reduce((s, [, w]) => s + w, 0);
  let roll = c.rand() * total, kind = MIX.find(([, w]) => (roll -= w) < 0)[0];
  if (kind !== "upload" && c.images.length === 0) kind = "upload";
  if (kind === "poll" && c.tasks.length === 0) kind = "create";
  if (kind === "download" && c.done.length === 0) kind = c.tasks.length ? "poll" : "create";
  if (kind === "upload") {
    const { status, json } = await call(c, stats, "POST /images", "POST", "/images", { body: png(16 + Math.floor(c.rand() * 240), 16 + Math.floor(c.rand() * 180), all.uploads++), type: "image/png", cost: 5 });
    if (status === 201) c.images.push(json.id);
  } else if (kind === "create") {
    const images = [...new Set([pick(c, c.images), pick(c, c.images), pick(c, c.images)].slice(0, 1 + Math.floor(c.rand() * 3)))];
    const steps = [{ op: "resize", width: 8 + Math.floor(c.rand() * 64) }, ...(c.rand() < 0.5 ? [{ op: "grayscale" }] : []), { op: "encode", format: pick(c, ["png", "jpeg", "webp"]) }];
    const { status, json } = await call(c, stats, "POST /tasks", "POST", "/tasks", { body: JSON.stringify({ images, steps }), type: "application/json", cost: Math.max(5, images.length * steps.length) });
    if (status === 202) c.tasks.push(json), all.tasks.push({ c, id: json.id });
  } else if (kind === "poll") {
    const task = pick(c, c.tasks);
    const { status, json } = await call(c, stats, "GET /tasks/{id}", "GET", `/tasks/${task.id}`);
    if (status === 200 && json.status === "succeeded" && !c.done.includes(task.id)) c.done.push(task.id);
  } else if (kind === "list_images") {
    await call(c, stats, "GET /images", "GET", "/images?limit=20");
  } else if (kind === "list_tasks") {
    await call(c, stats, "GET /tasks", "GET", c.rand() < 0.5 ? "/tasks?limit=20" : "/tasks?limit=20&status=succeeded");
  } else {
    await call(c, stats, "GET /tasks/{id}/download", "GET", `/tasks/${pick(c, c.done)}/download`);
  }
}

// One subscriber: the task's events from since=0 to the server's 1000 close. It is judged only
// once its task has ended (`settleSubscribers`): under a queue backlog a task may run long after
// its socket opened, which is not a lost close.
function subscribe(c, stats, task, subs) {
  const url = new URL(task.links.ws);
  url.host = `127.0.0.1:${c.port}`;
  url.searchParams.set("since", "0");
  c.spent += 1;
  const t0 = performance.now();
  const sub = { task: task.id, events: [], problem: null };
  subs.push(sub);
  sub.done = new Promise((resolve) => {
    const ws = new WebSocket(url.href);
    const fail = (why) => ((sub.problem ??= why), resolve());
    const last = () => `${sub.events.length} events, last ${sub.events.at(-1)?.type ?? "none"}`;
    sub.abort = (why) => (fail(`${why} (${last()})`), ws.close());
    ws.onopen = () => stats.add("WS /tasks/{id}/ws (open)", 101, performance.now() - t0);
    ws.onmessage = (m) => {
      const e = JSON.parse(m.data);
      if (e.seq !== sub.events.length + 1) sub.problem ??= `seq ${e.seq} after ${sub.events.length} events`;
      sub.events.push(e);
    };
    ws.onerror = () => (ws.readyState === WebSocket.CONNECTING && stats.add("WS /tasks/{id}/ws (open)", "error", performance.now() - t0), fail("socket error"));
    ws.onclose = (e) => {
      if (e.code !== 1000 || !TERMINAL.has(sub.events.at(-1)?.type)) fail(`closed ${e.code} after ${sub.events.at(-1)?.type ?? "nothing"}`);
      resolve();
    };
  });
}

export async function phase(name, clients, total, subscribers, all) {
  const stats = new Stats(), subs = [];
  const every = subscribers ? Math.max(1, Math.floor(total / subscribers)) : Infinity;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(clients.map(async (c) => {
    while (next < total) {
      const n = next++;
      if (n % every === 0 && subs.length < subscribers && c.tasks.length) subscribe(c, stats, c.tasks.at(-1), subs);
      else await act(c, stats, all);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  log(`${name}: ${total} requests in ${r1(seconds)} s (${r1(total / seconds)} req/s)`);
  return { stats, subs, seconds };
}

// Every task created so far, awaited to its end (untimed polls).
export async function drain(all) {
  const deadline = Date.now() + 180_000;
  for (const t of all.tasks.filter((t) => !t.final)) {
    for (;;) {
      const { status, json } = await call(t.c, null, "", "GET", `/tasks/${t.id}`);
      if (status === 200 && ENDED.has(json.status)) {
        t.final = json.status;
        break;
      }
      if (Date.now() > deadline) throw new Error(`task ${t.id} not finished within 180 s of the phase's end: ${status} ${JSON.stringify(json)}`);
      await new Promise((r) => setTimeout(r, 100)); // poll interval inside the deadline loop
    }
  }
}


// After `drain` (every task ended): each subscriber gets `grace` ms more for its terminal event and
// close; one still open then has lost them, and says how far it got.
export async function settleSubscribers(subs, grace = 60_000) {
  let handle;
  const timer = new Promise((resolve) => (handle = setTimeout(resolve, grace)));
  const open = subs.map((s) => Promise.race([s.done.then(() => true), timer.then(() => false)]));
  const closed = await Promise.all(open);
  clearTimeout(handle);
  subs.forEach((s, i) => closed[i] || s.abort(`no close within ${grace / 1000} s of its task's end`));
}
