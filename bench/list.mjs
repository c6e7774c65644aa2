// Listing latency: `GET /images?limit=20` for a tenant with 100 images and one with 10,000,
// inside workerd, interleaved, plus a page deep in the large tenant's list (a cursor ~9,900
// items in). Keyset pagination should make all three cost the same (issue 6: within 1.5×).
//
//   node bench/list.mjs [--runs 200]        (run it through `bash scripts/bench.sh list`)
//
// The tenants' indexes are filled with `POST /__bench/seed` (dev-only, behind BENCH_ROUTES):
// synthetic rows, so the benchmark measures the listing, not ten thousand uploads.

import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { mintToken, runBench, startServer, stopServer } from "./server.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const SIZES = { small: 100, large: 10_000 };
const LIMIT = 20;
const WARMUP = 20;
const TARGET_RATIO = 1.5;
const log = (...a) => console.error("[bench]", ...a);

function parseArgs(argv) {
  const runs = argv[0] === "--runs" ? Number(argv[1]) : 200;
  if (!Number.isInteger(runs) || runs < 10) throw new Error("--runs needs an integer >= 10");
  return { runs };
}

async function call(server, token, route, method = "GET") {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${server.port}${route}`, { method, headers: { authorization: `Bearer ${token}` } });
  const body = await res.json();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${method} ${route} answered ${res.status}: ${JSON.stringify(body)}`);
  return { ms, body };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const fmt = (x) => x.toFixed(2);

// A cursor about `depth` items into the tenant's list, reached by paging with limit=100.
async function deepCursor(server, token, depth) {
  let cursor = null;
  for (let seen = 0; seen < depth; seen += 100) {
    const { body } = await call(server, token, `/images?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
    cursor = body.next_cursor;
  }
  return cursor;
}

async function main() {
  const { runs } = parseArgs(process.argv.slice(2));
  const server = await startServer({ RATE_LIMIT_PER_MINUTE: "100000000" });
  const tokens = { small: mintToken("list-small"), large: mintToken("list-large") };
  for (const [name, count] of Object.entries(SIZES)) {
    log(`seeding ${count} images for the ${name} tenant`);
    await call(server, tokens[name], `/__bench/seed?count=${count}`, "POST");
  }
  const deep = await deepCursor(server, tokens.large, SIZES.large - 100);
  const cases = [
    { name: `first page, ${SIZES.small} images`, token: tokens.small, route: `/images?limit=${LIMIT}` },
    { name: `first page, ${SIZES.large} images`, token: tokens.large, route: `/images?limit=${LIMIT}` },
    { name: `page ~${SIZES.large - 100} items deep, ${SIZES.large} images`, token: tokens.large, route: `/images?limit=${LIMIT}&cursor=${deep}` },
  ];
  for (const c of cases) {
    c.ms = [];
    for (let i = 0; i < WARMUP; i++) await call(server, c.token, c.route);
  }
  log(`${runs} interleaved runs of each case`);
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      const { ms, body } = await call(server, c.token, c.route);
      if (body.items.length !== LIMIT) throw new Error(`${c.name}: ${body.items.length} items`);
      c.ms.push(ms);
    }
  }
  await stopServer(server);
  const base = quantile(cases[0].ms, 0.5);
  const rows = cases.map((c) => ({ case: c.name, p50: quantile(c.ms, 0.5), p90: quantile(c.ms, 0.9), p99: quantile(c.ms, 0.99), ratio: quantile(c.ms, 0.5) / base }));
  const worst = Math.max(...rows.map((r) => r.ratio));
  const md = [
    `| GET /images?limit=${LIMIT} | p50 ms | p90 ms | p99 ms | p50 vs ${SIZES.small} images |`,
    "|---|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.case} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${r.ratio.toFixed(2)}× |`),
    "",
    `Target: within ${TARGET_RATIO}× — worst ${worst.toFixed(2)}×: ${worst <= TARGET_RATIO ? "met" : "NOT met"} (${runs} runs per case, round trips from Node on loopback).`,
  ].join("\n");
  writeFileSync(path.join(benchDir, "list-results.json"), JSON.stringify({ runs, rows, worst_ratio: worst }, null, 2) + "\n");
  console.log(md);
}

runBench(main, log);
