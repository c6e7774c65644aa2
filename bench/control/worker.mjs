// The load bench's control (bench/load.mjs): a plain-JS Worker with no line of the studio's code,
// serving the same routes with the same kinds of runtime work, so that the memory the local
// runtime (workerd + miniflare's simulators) gains under the same request mix can be measured
// beside the studio's. Per request, like the studio: one round trip to a per-tenant limiter
// object; uploads go to R2 and a row in the tenant's object (SQLite), and send an analysis job (the
// studio's placeholder: the consumer reads the upload, copies it onto itself in R2 with a small
// record as custom metadata, and writes the record into the index row); a task is an object of its
// own (SQLite event log, WebSockets on the hibernation API) plus a row in the tenant's index and
// one queue message per image; the consumer reads the input from R2, writes an output of about
// the studio's size (a prefix of the input: width² × 2 bytes for a resize to `width`), reports
// to the task object, and for a task of several images writes one package of all outputs (the
// studio's zip); a download asks the task object for its key, then R2 `head` + `get` and streams.
// Every request and every job writes one structured log line (Workers Logs are on, as for the
// studio) and one Analytics Engine data point.
// No images are decoded: the work of the studio's own code is exactly what this leaves out.
// bench/render.mjs also uses it as the plain-JS yardstick of an edge hit (`/bench/cache`).
import { DurableObject } from "cloudflare:workers";

const json = (value, status = 200) => Response.json(value, { status });
const post = (stub, path, body) => stub.fetch(`http://do${path}`, { method: "POST", body: JSON.stringify(body) });
const tenantOf = (req, url) => (req.headers.get("authorization") ?? url.searchParams.get("tenant") ?? "").slice(-24);

// Like the studio's per request and per job: one structured log line (Workers Logs) and one
// Analytics Engine data point.
function record(env, kind, fields, status, t0) {
  const ms = Date.now() - t0;
  console.log(JSON.stringify({ level: "info", event: kind, request_id: crypto.randomUUID(), ...fields, status, duration_ms: ms }));
  env.METRICS.writeDataPoint({ indexes: [fields.route ?? kind], blobs: [kind, fields.route ?? "", fields.method ?? "", String(status), "dev", fields.tenant ?? ""], doubles: [status, ms] });
}

export default {
  async fetch(req, env, ctx) {
    const t0 = Date.now(), url = new URL(req.url), tenant = tenantOf(req, url);
    if (url.pathname === "/bench/cache") return cacheRoute(req, url); // bench/render.mjs: nothing else, no log line
    const res = await route(req, env, ctx, url, tenant);
    if (url.pathname !== "/health") record(env, "request", { route: url.pathname.replace(/\/[0-9a-f-]{36}/, "/{id}"), method: req.method, tenant }, res.status, t0);
    return res;
  },

  async queue(batch, env) {
    for (const msg of batch.messages) {
      const t0 = Date.now();
      await (msg.body.analyze ? analyze(env, msg.body) : step(env, msg.body));
      record(env, msg.body.analyze ? "analysis" : "step", { tenant: msg.body.tenant }, 200, t0);
      msg.ack();
    }
  },
};

async function route(req, env, ctx, url, tenant) {
  if (url.pathname === "/health") return json({ status: "ok" }); // what bench/server.mjs waits for
  const limited = await post(env.LIMITER.get(env.LIMITER.idFromName(tenant)), "/take", { tokens: 1 });
  if (!(await limited.json()).ok) return json({ error: "rate_limited" }, 429);
  const index = env.TENANTS.get(env.TENANTS.idFromName(tenant));
  const [, first, id, tail] = url.pathname.split("/");
  const task = id ? env.TASKS.get(env.TASKS.idFromName(id)) : null;
  if (req.method === "POST" && url.pathname === "/images") {
    const image = crypto.randomUUID();
    await env.IMAGES.put(`originals/${image}`, await req.arrayBuffer(), { httpMetadata: { contentType: "image/png" } });
    await post(index, "/add", { kind: "image", id: image });
    // Like the studio: after the answer, one job per upload (ids only) with a 1 s delay.
    ctx.waitUntil(env.STEPS.send({ analyze: image, tenant }, { delaySeconds: 1 }));
    return json({ id: image }, 201);
  }
  if (req.method === "POST" && url.pathname === "/tasks") {
    const body = await req.json(), taskId = crypto.randomUUID();
    const created = await post(env.TASKS.get(env.TASKS.idFromName(taskId)), "/create", { id: taskId, ...body });
    await env.STEPS.sendBatch(body.images.map((image) => ({ body: { task: taskId, image, width: body.steps[0].width, tenant } })));
    await post(index, "/add", { kind: "task", id: taskId });
    const ws = `ws://${url.host}/tasks/${taskId}/ws?tenant=${encodeURIComponent(tenant)}`;
    return json({ ...(await created.json()), links: { ws } }, 202);
  }
  if (req.method === "GET" && (url.pathname === "/images" || url.pathname === "/tasks")) {
    return post(index, "/list", { kind: first.slice(0, -1), status: url.searchParams.get("status"), limit: Number(url.searchParams.get("limit") ?? 20) });
  }
  if (req.method === "GET" && first === "tasks" && id && !tail) return task.fetch("http://do/get");
  if (req.method === "GET" && tail === "ws") return task.fetch(new Request(`http://do/ws?since=${url.searchParams.get("since") ?? 0}`, req));
  if (req.method === "GET" && tail === "download") {
    const { key } = await (await task.fetch("http://do/get")).json();
    if (!key || !(await env.IMAGES.head(key))) return json({ error: "not_found" }, 404);
    return new Response((await env.IMAGES.get(key)).body, { headers: { "content-type": "application/octet-stream" } });
  }
  return json({ error: "not_found" }, 404);
}

// A task's image: read the input, write the output, report; the last image ends the task.
async function step(env, { task, image, width, tenant }) {
  const input = new Uint8Array(await (await env.IMAGES.get(`originals/${image}`)).arrayBuffer());
  const key = `outputs/${task}/${image}`;
  await env.IMAGES.put(key, input.slice(0, Math.min(input.length, Math.max(128, width * width * 2))));
  const stub = env.TASKS.get(env.TASKS.idFromName(task));
  const { outputs } = await (await post(stub, "/report", { image, key })).json();
  if (outputs) {
    // The last image: package several outputs (the studio's zip job), then end the task.
    let packageKey = outputs[0];
    if (outputs.length > 1) {
      const parts = await Promise.all(outputs.map(async (k) => new Uint8Array(await (await env.IMAGES.get(k)).arrayBuffer())));
      packageKey = `outputs/${task}/all`;
      await env.IMAGES.put(packageKey, new Blob(parts));
    }
    await post(stub, "/finish", { key: packageKey });
    await post(env.TENANTS.get(env.TENANTS.idFromName(tenant)), "/status", { id: task, status: "succeeded" });
  }
}

// The studio's analysis job without the decode: read the original, derive a small record from its
// bytes (a digest stands in for the ThumbHash and colours), put the original onto itself with the
// record as custom metadata if its etag is unchanged, and write the record into the index row.
async function analyze(env, { analyze: image, tenant }) {
  const key = `originals/${image}`, original = await env.IMAGES.get(key);
  if (!original) return;
  const bytes = await original.arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const placeholder = JSON.stringify({ hash: btoa(String.fromCharCode(...digest.slice(0, 20))), color: `#${[...digest.slice(20, 23)].map((b) => b.toString(16).padStart(2, "0")).join("")}` });
  await env.IMAGES.put(key, bytes, { httpMetadata: original.httpMetadata, customMetadata: { placeholder }, onlyIf: { etagMatches: original.etag } });
  await post(env.TENANTS.get(env.TENANTS.idFromName(tenant)), "/analyzed", { id: image, placeholder });
}

// The render bench's yardstick (bench/render.mjs): one lookup in `caches.default` and nothing
// else (no log line, no data point), so that what the local Cache simulator costs any Worker can
// be set beside the studio's edge hit. PUT stores the body once (under a path no route serves,
// like the studio's edge keys); GET answers the cached response as it comes.
async function cacheRoute(req, url) {
  const key = `${url.origin}/__edge/bench`;
  if (req.method === "PUT") {
    const headers = { "content-type": req.headers.get("content-type") ?? "application/octet-stream", "cache-control": "public, max-age=2592000" };
    await caches.default.put(key, new Response(await req.arrayBuffer(), { headers }));
    return new Response(null, { status: 204 });
  }
  return (await caches.default.match(key)) ?? json({ error: "not_found" }, 404);
}

// A token bucket in memory, like the studio's limiter (no storage).
export class Limiter extends DurableObject {
  tokens = 1e9;
  async fetch(req) {
    const { tokens } = await req.json();
    this.tokens -= tokens;
    return json({ ok: this.tokens >= 0 });
  }
}

// A tenant's index of images and tasks (SQLite), listed newest first.
export class Tenant extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rows (kind TEXT, id TEXT PRIMARY KEY, status TEXT, at INTEGER, placeholder TEXT)");
  }
  async fetch(req) {
    const path = new URL(req.url).pathname, b = await req.json(), sql = this.ctx.storage.sql;
    if (path === "/add") sql.exec("INSERT INTO rows VALUES (?, ?, ?, ?, NULL)", b.kind, b.id, b.kind === "task" ? "queued" : null, Date.now());
    if (path === "/analyzed") sql.exec("UPDATE rows SET placeholder = ? WHERE id = ?", b.placeholder, b.id);
    if (path === "/status") sql.exec("UPDATE rows SET status = ? WHERE id = ?", b.status, b.id);
    if (path !== "/list") return json({ ok: true });
    const rows = b.status
      ? sql.exec("SELECT * FROM rows WHERE kind = ? AND status = ? ORDER BY at DESC LIMIT ?", b.kind, b.status, b.limit).toArray()
      : sql.exec("SELECT * FROM rows WHERE kind = ? ORDER BY at DESC LIMIT ?", b.kind, b.limit).toArray();
    return json({ items: rows });
  }
}

// A task: its state and event log (SQLite), and its subscribers' sockets (hibernation API).
export class Task extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body TEXT)");
  }
  async fetch(req) {
    const url = new URL(req.url), storage = this.ctx.storage;
    const task = await storage.get("task");
    if (url.pathname === "/get") return json(task ?? { error: "not_found" }, task ? 200 : 404);
    if (url.pathname === "/ws") {
      const [client, server] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(server);
      for (const e of storage.sql.exec("SELECT body FROM events WHERE seq > ? ORDER BY seq", Number(url.searchParams.get("since")))) server.send(e.body);
      if (task.status === "succeeded") server.close(1000, "done");
      return new Response(null, { status: 101, webSocket: client });
    }
    const b = await req.json();
    if (url.pathname === "/create") {
      const created = { id: b.id, status: "queued", images: b.images, steps: b.steps.map((s) => s.op), done: [] };
      await storage.put("task", created);
      this.emit("task.queued", {});
      return json(created);
    }
    if (url.pathname === "/report") {
      task.done.push(b.key);
      task.status = "running";
      for (const [i, op] of task.steps.entries()) this.emit("step.started", { image: b.image, step: i, op }), this.emit("step.succeeded", { image: b.image, step: i, op });
      await storage.put("task", task);
      return json({ outputs: task.done.length === task.images.length ? task.done : null });
    }
    Object.assign(task, { status: "succeeded", key: b.key }); // "/finish"
    await storage.put("task", task);
    this.emit("task.succeeded", {});
    for (const ws of this.ctx.getWebSockets()) ws.close(1000, "done");
    return json(task);
  }
  emit(type, fields) {
    const seq = (this.ctx.storage.sql.exec("SELECT COUNT(*) AS n FROM events").one().n ?? 0) + 1;
    const body = JSON.stringify({ seq, type, ...fields, at: new Date().toISOString() });
    this.ctx.storage.sql.exec("INSERT INTO events VALUES (?, ?)", seq, body);
    for (const ws of this.ctx.getWebSockets()) ws.send(body);
  }
  webSocketClose(ws) {
    try {
      ws.close(1000, "bye");
    } catch {
      /* already closed by /finish */
    }
  }
}
