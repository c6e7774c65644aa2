#!/usr/bin/env bash
# Installs whatever is missing, then serves the studio on http://127.0.0.1:8787 with local R2,
# Durable Objects and Queues (workerd via `wrangler dev`; no Cloudflare account needed), and
# prints a link that opens the studio page signed in as a local tenant.
# State persists in .wrangler/state between runs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
port="${PORT:-8787}"
# Once the server answers, a ready-to-open link to the studio page signed in as a local tenant
# (STUDIO_TENANT, default "dev"; the token lasts 8 hours and stays in the URL's fragment, which
# never reaches the server). The first run builds the Worker first, hence the long wait.
token=$(node_modules/.bin/node scripts/token.mjs "${STUDIO_TENANT:-dev}" 28800)
(
  for _ in $(seq 900); do
    if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      printf '\n\033[1;32m[dev]\033[0m open the studio: http://127.0.0.1:%s/#token=%s\n\n' "$port" "$token"
      exit 0
    fi
    sleep 1
  done
) &
exec npx wrangler dev --ip 127.0.0.1 --port "$port" "$@"
