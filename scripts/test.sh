#!/usr/bin/env bash
# Installs whatever is missing, builds the Worker once, then runs every test: the unit tests of
# both crates (native), the end-to-end tests and the studio page's browser tests, which start
# their own `wrangler dev` servers.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

echo "== lints: rustfmt (rustfmt.toml), then clippy on every crate and target, warnings are errors"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
# The WebP encoder's SIMD kernels (crates/webp-lossy/src/simd) exist only for wasm32.
cargo clippy -p webp-lossy --target wasm32-unknown-unknown -- -D warnings

echo "== unit tests (native): the Worker's pure logic, and the imaging core with its corpus and catalogue tests"
cargo test -p stellar-studio --lib
cargo test -p functions

echo "== browser client (Node test runner, fake sockets and clock): reconnect, backoff, resume, SSE fallback"
node_modules/.bin/node --test tests/js/*.test.mjs

echo "== building the Worker (release wasm)"
bash scripts/build.sh

echo "== bundle size: the upload must fit the free plan's 3 MiB gzip"
bash scripts/bundle-size.sh

echo "== end-to-end tests against wrangler dev"
# The harness starts each server with STUDIO_SKIP_BUILD=1 so it reuses the build above.
cargo test --test e2e -- --test-threads "${E2E_THREADS:-4}"

echo "== browser tests: the studio page in Debian's Chromium (playwright-core) against wrangler dev"
# Screenshots of every state land in target/studio-screenshots/.
node_modules/.bin/node --test tests/browser/*.test.mjs
