// Fails when the built Worker's wasm imports anything from `env`: the C functions libwebp calls
// (crates/webp-lossy) must all be linked in, by Rust's compiler_builtins or the libc shim, since
// workerd has no C library to import them from. Usage: node scripts/wasm-imports.mjs [build dir]
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "build";
const wasms = readdirSync(dir, { recursive: true }).filter((f) => f.endsWith(".wasm"));
if (wasms.length === 0) {
  console.error(`wasm imports: no .wasm in ${dir}`);
  process.exit(1);
}
for (const file of wasms) {
  const module = new WebAssembly.Module(readFileSync(join(dir, file)));
  const missing = WebAssembly.Module.imports(module).filter((i) => i.module === "env");
  if (missing.length > 0) {
    console.error(`wasm imports: ${file} needs C functions nothing provides: ${missing.map((i) => i.name).join(", ")}`);
    process.exit(1);
  }
}
