#!/usr/bin/env bash
# Benchmarks the studio inside workerd against sharp and photon-node (see docs/BENCHMARKS.md):
# installs whatever is missing (scripts/setup.sh, then bench/'s npm packages), builds the release
# wasm, and runs bench/run.mjs on the repo's Node 22. Arguments go to bench/run.mjs, e.g.
#   bash scripts/bench.sh --runs 11 --photon-runs 1      (or --no-photon)
# Prints a markdown table and writes bench/results.json.
#   bash scripts/bench.sh list [--runs 200]
# times the listings instead (bench/list.mjs, issue 6) and writes bench/list-results.json.
#   bash scripts/bench.sh live [--clients 1000] [--tasks 5]
# times event fan-out and per-step orchestration overhead (bench/live.mjs, issue 5).
#   bash scripts/bench.sh chains [--runs 5] [--warmup 1] [--images DIR] [--cases web,six,…] [--state tmpfs|disk]
# times chains END TO END through the public routes (POST /tasks → terminal WebSocket event):
# the presets, a six-step chain, resize+encode and the per-step orchestration cost, vs sharp in
# the same run (bench/chains.mjs); generates its inputs into bench/fixtures/ unless --images DIR
# names a folder with a 12 MP and a 48 MP JPEG; writes bench/chains-results.json.
#   bash scripts/bench.sh quality [--images DIR] [--webp 50,65,75,85,95] [--jpeg 50,80,95] [--timing-only]
# bytes at equal SSIM END TO END (POST /tasks with encode, download) against cwebp (installed here
# from Debian's `webp` if missing) and libjpeg-turbo (sharp), plus encode times at 1600×1200
# (bench/quality.mjs); writes bench/quality-results.json.
#   bash scripts/bench.sh load [--requests 10000] [--passes 1] [--clients 50] [--subscribers 100] [--tenants 10] [--warmup 1000] [--control 1]
# sends mixed requests (uploads, tasks, polls, listings, downloads, WebSocket subscribers) from
# concurrent clients (bench/load.mjs, issue 13): throughput and p50/p99 per route, 0 5xx, no 429
# within the limit; our heap (live bytes) after the last pass vs after warm-up; workerd's RSS after
# the last of `--passes` measured passes vs after the one before, and its growth in that pass vs a
# plain-JS control Worker's under the same mix (bench/control/); PASS/FAIL per check with its
# figures (about 20 minutes on 2 busy cores, ~10 more per extra pass); writes bench/load-results.json.
#   bash scripts/bench.sh render [--runs 7] [--hits 60] [--clients 100] [--images DIR] [--via worker|proxy] [--var K=V]
# times render URLs through GET /images/{id}/render from outside (bench/render.mjs, issue 15): cold
# render of the 12 MP photo to 1600 px JPEG q80 vs sharp, store and edge hits beside the server's
# floor and a plain-JS Worker's cache hit (bench/control/), simultaneous requests for one
# rendition, Accept negotiation; writes bench/render-results.json.
#   bash scripts/bench.sh crop [--images DIR]
# compares smart_crop's box with sharp's position "attention"/"entropy" crops as IoU, through the
# public routes (bench/crop.mjs, issue 17); writes bench/crop-results.json.
#   bash scripts/bench.sh uploads [--runs 30] [--via worker|proxy]
# times POST /images END TO END with the placeholder analysis on and off (two dev servers, the
# same inputs interleaved; settled and back-to-back), plus answer → image.analyzed
# (bench/uploads.mjs, issue 17); writes bench/uploads-results.json.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { printf '\033[1;34m[bench]\033[0m %s\n' "$*"; }

bash scripts/setup.sh

# Same rule as setup.sh: install only when bench/package.json changed since the last install.
# npm ci fails on this registry (see docs/TOOLCHAIN.md); npm install is the supported path.
if [ ! -f bench/node_modules/.package-lock.json ] || [ bench/package.json -nt bench/node_modules/.package-lock.json ]; then
  say "installing bench/ packages (sharp 0.35.5, @silvia-odwyer/photon-node 0.3.4)"
  (cd bench && npm install --no-audit --no-fund)
  touch bench/node_modules/.package-lock.json
fi

say "building the release wasm (scripts/build.sh)"
bash scripts/build.sh

# The benchmark named by the first argument (bench/KIND.mjs); anything else is bench/run.mjs's
# own arguments.
script=run
case "${1:-}" in
  live | chains | render | quality | load | crop | list | uploads) script=$1 && shift ;;
esac
# The peer for WebP. Only the quality benchmark needs it, so neither setup.sh nor the tests
# install it.
if [ "$script" = quality ] && ! command -v cwebp > /dev/null; then
  say "installing cwebp (Debian package webp)"
  apt-get update -qq && apt-get install -y -qq webp > /dev/null
fi
exec "$root/node_modules/.bin/node" "bench/$script.mjs" "$@"
