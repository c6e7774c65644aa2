#!/usr/bin/env bash
# Installs whatever is missing to build, run and test the studio, and nothing else: every step
# checks first, so a second run finishes in seconds. Offline-safe: only the Rust, npm and Debian
# registries are used (see docs/TOOLCHAIN.md for why each pin exists).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

WORKER_BUILD_VERSION=0.8.7
# The CLI must match the wasm-bindgen crate exactly; Cargo.toml pins it, Cargo.lock records it.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3; exit}' Cargo.lock)

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo clippy --version >/dev/null 2>&1; then
  say "adding clippy (the test command lints with it)"
  rustup component add clippy
fi
if ! cargo fmt --version >/dev/null 2>&1; then
  say "adding rustfmt (the test command checks formatting)"
  rustup component add rustfmt
fi

# libwebp (lossy WebP, crates/webp-lossy) is C: for wasm32 it is compiled by clang and archived
# by llvm-ar, against wasi-libc's headers (.cargo/config.toml), all from the Debian archive.
# Before any cargo build: the first one compiles libwebp.
if ! command -v clang >/dev/null 2>&1 || ! command -v llvm-ar >/dev/null 2>&1 || [ ! -f /usr/include/wasm32-wasi/stdlib.h ]; then
  say "installing clang, llvm and wasi-libc from Debian (libwebp for wasm32, once)"
  sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang llvm wasi-libc >/dev/null
fi

if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION (several minutes, once)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # --locked fails against this registry mirror; the version pin is exact anyway.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# npm ci fails here (the lockfile lacks other platforms' workerd builds); npm install is the
# supported path. Re-run only when package.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (wrangler, Node 22, binaryen, esbuild, playwright-core)"
  npm install --no-audit --no-fund
  touch node_modules/.package-lock.json
fi

# The browser tests (tests/browser/) drive Debian's Chromium through playwright-core: the npm
# registry serves no browser builds here, so the browser comes from the Debian archive.
if ! command -v chromium >/dev/null 2>&1; then
  say "installing chromium from Debian (the studio page's browser tests, once)"
  sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

# exiftool reads encode's metadata back in the tests (functions/tests/metadata_exiftool.rs): an
# independent reader, from the Debian archive.
if ! command -v exiftool >/dev/null 2>&1; then
  say "installing exiftool from Debian (the metadata tests' independent reader, once)"
  sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libimage-exiftool-perl >/dev/null
fi

# The metadata e2e test tags its JPEG with an Adobe RGB-compatible profile from Debian's
# icc-profiles-free (tests/e2e/metadata.rs): without it exiftool tags no profile, and the test
# fails on a machine that never had the package.
if [ ! -f /usr/share/color/icc/compatibleWithAdobeRGB1998.icc ]; then
  say "installing icc-profiles-free from Debian (the metadata tests' colour profile, once)"
  sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq icc-profiles-free >/dev/null
fi

# avifdec decodes encode's AVIF outputs in the tests (functions/tests/avif_decode.rs): an
# independent decoder (libavif with dav1d), from the Debian archive.
if ! command -v avifdec >/dev/null 2>&1; then
  say "installing avifdec from Debian (the AVIF tests' independent decoder, once)"
  sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libavif-bin >/dev/null
fi

# dwebp and cwebp check lossy WebP outputs in the tests (functions/tests/webp_dwebp.rs): libwebp's
# own decoder and, at the same settings, its encoder, from the Debian archive.
if ! command -v dwebp >/dev/null 2>&1 || ! command -v cwebp >/dev/null 2>&1; then
  say "installing dwebp and cwebp from Debian (the WebP tests' reference tools, once)"
  sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq webp >/dev/null
fi

# Local secrets (gitignored): each one missing from .dev.vars is generated, so an older
# .dev.vars gains the new secrets without losing its existing ones.
for secret in AUTH_SECRET WEBHOOK_SECRET; do
  if ! grep -qs "^$secret=" .dev.vars; then
    say "adding a random $secret to .dev.vars (local only, gitignored)"
    (umask 077; printf '%s="%s"\n' "$secret" "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >> .dev.vars)
  fi
done
say "ready"
