#!/usr/bin/env bash
# Installs whatever is missing, then serves the studio on http://127.0.0.1:8787 with local R2,
# Durable Objects and Queues (workerd via `wrangler dev`; no Cloudflare account needed).
# State persists in .wrangler/state between runs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
exec npx wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" "$@"
