// Starts one `wrangler dev` for the browser tests as the Rust e2e harness does (tests/e2e/support/process.rs):
// free ports, private persisted state, STUDIO_SKIP_BUILD=1, its own process group, stopped as a whole.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { openSync, closeSync, readFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));
const STARTUP_DEADLINE_MS = 90_000;
const STOP_GRACE_MS = 5_000;
const LAUNCH_ATTEMPTS = 3;

/** A running studio: `url`, `token(tenant)`, `api(token, path, init)`, `stop()`. */
export async function startStudio({ vars = {} } = {}) {
  const secret = devVar("AUTH_SECRET");
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), "studio-browser-"));
    const [port, inspector] = await freePorts();
    const log = join(dir, "wrangler.log");
    const child = launch(port, inspector, join(dir, "state"), vars, log);
    const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code ?? "signal")));
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      await stopGroup(child, exited);
      rmSync(dir, { recursive: true, force: true });
    };
    const outcome = await healthy(url, exited);
    if (outcome === "ok") {
      const token = (tenant, ttl = 3600) => mint(secret, tenant, ttl);
      const api = (tok, path, init = {}) =>
        fetch(url + path, { ...init, headers: { Authorization: `Bearer ${tok}`, ...init.headers } });
      return { url, port, token, api, stop, log };
    }
    const text = readFileSync(log, "utf8");
    await stop();
    if (attempt < LAUNCH_ATTEMPTS && /EADDRINUSE|ddress already in use/.test(text)) continue;
    throw new Error(`wrangler dev did not become healthy on port ${port}: ${outcome}\n${text.split("\n").slice(-40).join("\n")}`);
  }
}

function launch(port, inspector, state, vars, log) {
  const fd = openSync(log, "w");
  const args = ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector)];
  args.push("--persist-to", state, "--log-level", "log", "--show-interactive-dev-session=false");
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawn("npx", args, {
    cwd: root,
    // The test command builds the wasm once; every server reuses that build. No telemetry.
    env: { ...process.env, STUDIO_SKIP_BUILD: "1", WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", fd, fd],
    detached: true, // its own process group: npx, node and workerd are stopped together
  });
  closeSync(fd);
  return child;
}

// Waits for the condition (GET /health answers 200), polling; "ok" or why not.
async function healthy(url, exited) {
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  let last = "no answer yet";
  let gone = null;
  exited.then((code) => (gone = code));
  while (Date.now() < deadline) {
    if (gone !== null) return `wrangler exited with ${gone}`;
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
      if (res.status === 200) return "ok";
      last = `HTTP ${res.status}: ${await res.text()}`;
    } catch (err) {
      last = `request failed: ${err.cause?.code ?? err.message}`;
    }
    await new Promise((r) => setTimeout(r, 200)); // poll interval inside the deadline loop
  }
  return `no 200 from /health within ${STARTUP_DEADLINE_MS} ms; last: ${last}`;
}

async function stopGroup(child, exited) {
  const signal = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      // the group is gone
    }
  };
  signal("SIGTERM");
  const timer = new Promise((r) => setTimeout(() => r("timeout"), STOP_GRACE_MS));
  if ((await Promise.race([exited, timer])) === "timeout") signal("SIGKILL");
  signal("SIGKILL"); // workerd may outlive npx: whatever is left of the group
}

// Two distinct free ports: both listeners stay open until both are read, so they cannot coincide.
async function freePorts() {
  const listen = () =>
    new Promise((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => resolve(s));
    });
  const servers = [await listen(), await listen()];
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function devVar(name) {
  let text;
  try {
    text = readFileSync(join(root, ".dev.vars"), "utf8");
  } catch {
    throw new Error("no .dev.vars: run `bash scripts/setup.sh` first");
  }
  const m = text.match(new RegExp(`^${name}\\s*=\\s*"?([^"\\n]+)"?`, "m"));
  if (!m) throw new Error(`.dev.vars has no ${name}`);
  return m[1];
}

// HS256 like scripts/token.mjs.
function mint(secret, tenant, ttl) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const head = b64({ alg: "HS256", typ: "JWT" });
  const claims = b64({ sub: tenant, exp: Math.floor(Date.now() / 1000) + ttl });
  return `${head}.${claims}.${createHmac("sha256", secret).update(`${head}.${claims}`).digest("base64url")}`;
}
