#!/usr/bin/env bash
# Builds the Worker to build/ with worker-build (wrangler's [build] hook runs this).
#   STUDIO_SKIP_BUILD=1  reuse an existing build (the test harness builds once, then starts many
#                        dev servers);
#   STUDIO_WASM_OPT=1    run wasm-opt (smaller bundle, for deploys; ~20 s slower).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ "${STUDIO_SKIP_BUILD:-}" = 1 ] && [ -f build/worker/shim.mjs ]; then
  exit 0
fi
export PATH="$HOME/.cargo/bin:$PATH"
# The commit the build came from, compiled in (`option_env!` in src/api/health.rs) and shown by
# GET /health. CI checkouts in a container may refuse `git` (another owner): GITHUB_SHA then.
STUDIO_GIT_COMMIT=${STUDIO_GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo "${GITHUB_SHA:-unknown}")}
export STUDIO_GIT_COMMIT
# worker-build would download these from GitHub; point it at the installed copies instead.
WASM_BINDGEN_BIN=$(command -v wasm-bindgen)
export WASM_BINDGEN_BIN
export ESBUILD_BIN="$root/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$root/node_modules/.bin/wasm-opt"
if [ "${STUDIO_WASM_OPT:-}" = 1 ]; then
  worker-build --release
else
  worker-build --release --no-opt
fi
# A C function that neither Rust's compiler_builtins nor crates/webp-lossy's libc shim provides
# links as an import from `env`, which workerd cannot satisfy: the module would fail at start-up.
node scripts/wasm-imports.mjs build
