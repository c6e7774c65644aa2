// Fails when the built Worker's wasm imports anything from `env`: the C functions libwebp calls
// (crates/webp-lossy) must all be linked in, by Rust's compiler_builtins or the libc shim, since
// workerd has no C library to import them from. Reads the import section itself: Node 20 cannot
// compile the module (it uses reference types Node gates behind a flag).
// Usage: node scripts/wasm-imports.mjs [build dir]
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/// The (module, name) pairs of a wasm binary's import section.
function imports(bytes) {
  let at = 8; // magic and version
  const leb = () => {
    let value = 0, shift = 0, byte;
    do {
      byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  const name = () => {
    const len = leb();
    const text = new TextDecoder().decode(bytes.subarray(at, at + len));
    at += len;
    return text;
  };
  const limits = () => (bytes[at++] & 1 ? (leb(), leb()) : leb());
  const refType = () => ((bytes[at++] & 0xfe) === 0x62 ? leb() : 0); // (ref null? ht) carries a heap type
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    if (id !== 2) {
      at += size;
      continue;
    }
    const found = [];
    for (let n = leb(); n > 0; n--) {
      const module = name(), field = name(), kind = bytes[at++];
      if (kind === 0) leb(); // function: type index
      else if (kind === 1) (refType(), limits()); // table
      else if (kind === 2) limits(); // memory
      else if (kind === 3) (refType(), at++); // global: type, mutability
      else if (kind === 4) (at++, leb()); // tag
      else throw new Error(`unknown import kind ${kind}`);
      found.push({ module, field });
    }
    return found;
  }
  return [];
}

const dir = process.argv[2] ?? "build";
const wasms = readdirSync(dir, { recursive: true }).filter((f) => f.endsWith(".wasm"));
if (wasms.length === 0) {
  console.error(`wasm imports: no .wasm in ${dir}`);
  process.exit(1);
}
for (const file of wasms) {
  const missing = imports(readFileSync(join(dir, file))).filter((i) => i.module === "env");
  if (missing.length > 0) {
    console.error(`wasm imports: ${file} needs C functions nothing provides: ${missing.map((i) => i.field).join(", ")}`);
    process.exit(1);
  }
}
