// Mints a local bearer token: `npm run -s token -- <tenant> [ttl-seconds] [--admin]`
// (`--admin` adds the claim "role": "admin" that the /admin/… routes need).
// Signs HS256 with AUTH_SECRET from .dev.vars (created by scripts/setup.sh). Local use only.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const admin = args.includes("--admin");
const [tenant = "dev", ttl = "3600"] = args.filter((a) => a !== "--admin");
let vars;
try {
  vars = readFileSync(`${root}/.dev.vars`, "utf8");
} catch {
  console.error("no .dev.vars: run `bash scripts/setup.sh` first");
  process.exit(1);
}
const match = vars.match(/^AUTH_SECRET\s*=\s*"?([^"\n]+)"?/m);
if (!match) {
  console.error(".dev.vars has no AUTH_SECRET");
  process.exit(1);
}
const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
const head = b64({ alg: "HS256", typ: "JWT" });
const claims = b64({ sub: tenant, exp: Math.floor(Date.now() / 1000) + Number(ttl), ...(admin ? { role: "admin" } : {}) });
const sig = createHmac("sha256", match[1]).update(`${head}.${claims}`).digest("base64url");
console.log(`${head}.${claims}.${sig}`);
