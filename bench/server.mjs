// The benchmarks' `wrangler dev`: started on free ports in its own process group with the
// dev-only `BENCH_ROUTES=1` (plus any vars given), and always stopped again, also on errors and
// signals. Shared by bench/run.mjs (imaging), bench/list.mjs (listings), bench/live.mjs and
// bench/chains.mjs, bench/load.mjs. wrangler's stdout and stderr go to `server.logFile` (readable until
// stopServer); `extraArgs` are appended to `wrangler dev` (e.g. ["--log-level", "log"]).

import { spawn, execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const STARTUP_DEADLINE_MS = 90_000;
const STOP_GRACE_MS = 5_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function mintToken(tenant) {
  // scripts/token.mjs signs with AUTH_SECRET from .dev.vars (scripts/setup.sh creates it).
  return execFileSync(process.execPath, [path.join(root, "scripts/token.mjs"), tenant, "7200"], { encoding: "utf8" }).trim();
}

// ---------------------------------------------------------------------------------------------
// The dev server: own process group, always stopped (also on errors and signals)

export const servers = new Set();

// Whether a live (non-zombie) process is still in the group. Zombies do not count: orphans are
// reparented to PID 1, which in a container may never reap them.
function groupAlive(pgid) {
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return false;
  }
  return entries.some((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return false;
    }
    // Fields after the parenthesised command name: state ppid pgrp ...
    const f = stat.slice(stat.lastIndexOf(")") + 1).trim().split(/\s+/);
    return f[0] !== "Z" && Number(f[2]) === pgid;
  });
}

function signalGroup(pgid, sig) {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* already gone */
  }
}

export async function stopServer(server) {
  if (!servers.delete(server)) return;
  const pgid = server.child.pid;
  signalGroup(pgid, "SIGTERM");
  const deadline = Date.now() + STOP_GRACE_MS;
  while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive(pgid)) signalGroup(pgid, "SIGKILL");
  rmSync(server.dir, { recursive: true, force: true });
}

function stopAllNow() {
  // Synchronous last resort (process exit): no grace period.
  for (const s of servers) {
    signalGroup(s.child.pid, "SIGKILL");
    rmSync(s.dir, { recursive: true, force: true });
  }
  servers.clear();
}

function logTail(file, lines = 40) {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch (e) {
    return `(cannot read ${file}: ${e.message})`;
  }
}

// Where a server's state (the local Durable Objects' SQLite files, R2 blobs, the log) lives:
// `disk` = the OS temp directory; `tmpfs` = /dev/shm. Local workerd flushes every object
// storage commit to disk with fsync on the thread that also runs the Worker (~17 per task,
// 0.3–8 ms each on this machine's disk, longer under other I/O), a stall the platform's
// replicated storage does not put on the isolate; on tmpfs that flush is free.
export function stateBase(kind) {
  return kind === "tmpfs" ? "/dev/shm" : os.tmpdir();
}

export async function startServer(vars = {}, extraArgs = [], { state = "disk" } = {}) {
  const dir = mkdtempSync(path.join(stateBase(state), "studio-bench-"));
  const logFile = path.join(dir, "wrangler.log");
  const port = await freePort();
  let inspectorPort = await freePort();
  while (inspectorPort === port) inspectorPort = await freePort();
  const fd = openSync(logFile, "w");
  const child = spawn(
    "npx",
    [
      "wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort),
      "--persist-to", path.join(dir, "state"), "--var", "BENCH_ROUTES:1",
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
      "--show-interactive-dev-session=false",
      ...extraArgs,
    ],
    {
      cwd: root,
      detached: true, // its own process group: npx, node and workerd are stopped together
      stdio: ["ignore", fd, fd],
      env: { ...process.env, STUDIO_SKIP_BUILD: "1", WRANGLER_SEND_METRICS: "false" },
    },
  );
  closeSync(fd);
  const server = { child, port, inspectorPort, dir, logFile, exited: null };
  servers.add(server);
  child.on("exit", (code, sig) => (server.exited = sig ?? code));

  const url = `http://127.0.0.1:${port}/health`;
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (server.exited !== null) break;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      const body = await res.text();
      if (res.status === 200) return server;
      last = `HTTP ${res.status}: ${body}`;
    } catch (e) {
      last = `request failed: ${e.cause?.code ?? e.message}`;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const why = server.exited !== null ? `wrangler exited (${server.exited})` : `no 200 from /health within ${STARTUP_DEADLINE_MS / 1000} s; last: ${last}`;
  const tail = logTail(logFile);
  await stopServer(server);
  throw new Error(`wrangler dev did not become healthy on port ${port}: ${why}\n--- wrangler log (tail) ---\n${tail}`);
}

// ---------------------------------------------------------------------------------------------
// Inside the dev server: which process does what (bench/live.mjs)

// The group's live processes with their CPU time so far (ms) and role: `proxy` is the workerd
// behind the public port (wrangler's ProxyWorker: every request and WebSocket frame passes it
// locally, nothing like it runs on the same machine in production), `worker` the workerd running
// the Worker and its objects, `wrangler` the rest (npx, wrangler's node, esbuild).
function groupProcesses(server) {
  const out = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").pop().split(" ");
      if (Number(f[2]) !== server.child.pid) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const role = !argv[0].endsWith("/workerd") ? "wrangler" : argv.includes(`--socket-addr=entry=127.0.0.1:${server.port}`) ? "proxy" : "worker";
      out.push({ pid: Number(pid), role, cpuMs: (Number(f[11]) + Number(f[12])) * 10 }); // utime + stime, USER_HZ = 100
    } catch {
      /* gone */
    }
  }
  return out;
}

// Resident memory (bytes) of the dev server's processes by role (VmRSS; bench/load.mjs).
export function serverRss(server) {
  const rss = { worker: 0, proxy: 0, wrangler: 0 };
  for (const p of groupProcesses(server)) {
    try {
      const m = readFileSync(`/proc/${p.pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
      if (m) rss[p.role] += Number(m[1]) * 1024;
    } catch {
      /* gone */
    }
  }
  return rss;
}

export function serverCpuMs(server) {
  const cpu = { worker: 0, proxy: 0, wrangler: 0 };
  for (const p of groupProcesses(server)) cpu[p.role] += p.cpuMs;
  return cpu;
}

// The Worker's own HTTP port, behind wrangler's proxy: the listening socket of the `worker`
// workerd that answers /health (the others are its inspector and debug ports).
export async function workerPort(server) {
  const worker = groupProcesses(server).find((p) => p.role === "worker");
  if (!worker) throw new Error("no workerd running the Worker in the dev server's process group");
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${worker.pid}/fd`)) {
    try {
      const m = readlinkSync(`/proc/${worker.pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (m) inodes.add(m[1]);
    } catch {
      /* closed meanwhile */
    }
  }
  const ports = readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === "0A" && inodes.has(f[9])) // 0A = LISTEN
    .map((f) => parseInt(f[1].split(":")[1], 16));
  for (const port of ports) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status === 200) return port;
    } catch {
      /* not HTTP */
    }
  }
  throw new Error(`none of the Worker's listening ports (${ports.join(", ")}) answers /health`);
}

// Stops every server on exit and on SIGINT/SIGTERM/SIGHUP; `.value` tells whether a signal came.
export function onExitStopServers(log) {
  const interrupted = { value: false };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, async () => {
      if (interrupted.value) return;
      interrupted.value = true;
      log(`${sig}: stopping the dev server`);
      await Promise.all([...servers].map(stopServer));
      process.exit(130);
    });
  }
  process.on("exit", stopAllNow);
  return interrupted;
}

/** Runs a benchmark's `main`: reports a failure (not one a signal caused, whose handler reports
 * and exits) and stops every dev server it started, however it ends. */
export function runBench(main, log) {
  const interrupted = onExitStopServers(log);
  return main()
    .catch((e) => {
      if (interrupted.value) return;
      console.error(`[bench] failed: ${e.stack ?? e}`);
      process.exitCode = 1;
    })
    .finally(async () => {
      await Promise.all([...servers].map(stopServer));
    });
}

// The Worker isolate's V8 heap through wrangler's inspector port (the DevTools protocol's
// Runtime.getHeapUsage): JS objects in use, the embedder's (workerd's objects), and ArrayBuffer
// backing stores (bodies, wasm glue copies). Tells growth inside the isolate apart from the
// runtime's own native memory, which workerd's RSS mixes together. null when the inspector
// does not answer. (workerd does not implement HeapProfiler.collectGarbage, so the figures
// include garbage not yet collected: read them once memory has settled.)
export async function isolateJsHeap(server) {
  try {
    const targets = await (await fetch(`http://127.0.0.1:${server.inspectorPort}/json`, { signal: AbortSignal.timeout(5000) })).json();
    const url = targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
    if (!url) return null;
    // wrangler's inspector proxy admits DevTools' origin only.
    const ws = new WebSocket(url, { headers: { Origin: "https://devtools.devprod.cloudflare.dev" } });
    await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
    const usage = await new Promise((resolve) => {
      ws.onmessage = (m) => {
        const msg = JSON.parse(m.data);
        if (msg.id === 7001) resolve(msg.result);
      };
      setTimeout(() => resolve(null), 30_000);
      ws.send(JSON.stringify({ id: 7001, method: "Runtime.getHeapUsage" }));
    });
    ws.close();
    return usage && { used: usage.usedSize, total: usage.totalSize, embedder: usage.embedderHeapUsedSize ?? null, backing: usage.backingStorageSize ?? null };
  } catch (e) {
    console.error(`isolateJsHeap: ${e}`);
    return null;
  }
}
