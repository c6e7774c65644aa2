#!/usr/bin/env bash
# Sizes the Worker's upload the way a deploy would (`wrangler deploy --dry-run`, offline) and
# fails when it would exceed the free plan's 3 MiB gzip limit, so a dependency that bloats the
# bundle is caught by the test command, not at deploy time. Checks the local default and the
# production environment (whose [env.production] section must also be valid: a binding missing
# there fails here). Uses the existing build (scripts/build.sh; the figure is without wasm-opt,
# an upper bound of what STUDIO_WASM_OPT=1 deploys).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
LIMIT_KIB=3072
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# check <label> [wrangler args…]: dry-runs a deploy and checks its gzip size.
check() {
  local label=$1
  shift
  STUDIO_SKIP_BUILD=1 npx wrangler deploy --dry-run "$@" --outdir "$out/$label" > "$out/$label.log" 2>&1 || {
    cat "$out/$label.log"
    echo "bundle size ($label): wrangler deploy --dry-run failed" >&2
    exit 1
  }
  local line gzip_kib
  line=$(grep -m1 'Total Upload:' "$out/$label.log" || true)
  gzip_kib=$(printf '%s' "$line" | sed -n 's/.*gzip: \([0-9.]*\) KiB.*/\1/p')
  if [ -z "$gzip_kib" ]; then
    cat "$out/$label.log"
    echo "bundle size ($label): could not read the upload size from wrangler's output" >&2
    exit 1
  fi
  echo "bundle size ($label): $line (limit ${LIMIT_KIB} KiB gzip)"
  awk -v s="$gzip_kib" -v l="$LIMIT_KIB" 'BEGIN { exit !(s <= l) }' || {
    echo "bundle size ($label): ${gzip_kib} KiB gzip exceeds ${LIMIT_KIB} KiB" >&2
    exit 1
  }
}

check local
check production --env production
