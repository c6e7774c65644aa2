// The load bench's memory verdicts (bench/load-memory.mjs): growth that shrinks from pass to pass
// (bounded warm-up) must pass, growth that repeats every pass (a leak) must fail, whatever the
// baselines; our heap must come back within its margin on the same module instance.
import { test } from "node:test";
import assert from "node:assert/strict";
import { growths, heapCheck, rssGrowthCheck, rssRatioCheck } from "../../bench/load-memory.mjs";

const MiB = 2 ** 20;
const heap = (live, extra = {}) => ({ live_bytes: live, peak_live_bytes: 3 * MiB, allocated_bytes_total: 0, linear_memory_bytes: 5 * MiB, instance_started_ms: 1, js_values_live: 700, ...extra });
// A server's readings: RSS (MiB) after warm-up and after each pass, our heap flat unless given.
const server = (rssMiB, heaps) => {
  const [warm, ...passes] = rssMiB.map((rss, i) => ({ rss: rss * MiB, heap: heaps?.[i] ?? heap(40 * 1024), js: null, settled: true, waited_s: 10 }));
  return { warm, passes };
};

test("growth that shrinks from the first pass to the second passes both RSS checks", () => {
  const studio = server([833, 1083, 1140]), control = server([560, 678, 720]);
  assert.deepEqual(growths(studio).map((g) => g / MiB), [250, 57]);
  assert.ok(rssRatioCheck(studio, control).ok);
  assert.ok(rssGrowthCheck(studio, control).ok);
});

test("growth that repeats every pass beyond the control's fails the comparison, though the ratio allows it", () => {
  // +200 MiB a pass on a 1 GiB base stays under 1.2×: the ratio alone would let this leak through.
  const studio = server([833, 1033, 1233]), control = server([560, 678, 720]);
  assert.ok(rssRatioCheck(studio, control).ok);
  const verdict = rssGrowthCheck(studio, control);
  assert.equal(verdict.ok, false);
  assert.match(verdict.figures, /studio \+200 MiB, control \+42 MiB/);
});

test("the last pass growing more than 1.2 times the reading before it fails the issue's bound", () => {
  const verdict = rssRatioCheck(server([500, 600, 800]), null);
  assert.equal(verdict.ok, false);
  assert.match(verdict.what, /after pass 1/);
  assert.match(verdict.figures, /600 → 800 MiB \(1\.33×\)/);
});

test("with one pass the issue's bound compares with the warm-up", () => {
  assert.match(rssRatioCheck(server([500, 590]), null).what, /after warm-up/);
  assert.ok(rssRatioCheck(server([500, 590]), null).ok);
});

test("a higher wasm high-water mark in the last pass is allowed on top of the control's growth", () => {
  const heaps = [heap(0), heap(0), heap(0, { linear_memory_bytes: 79 * MiB })];
  const studio = server([600, 700, 800], heaps), control = server([500, 550, 550]);
  assert.equal(rssGrowthCheck(studio, control).ok, true); // 100 ≤ 0 × 1.2 + 32 + 74
  assert.equal(rssGrowthCheck(server([600, 700, 800]), control).ok, false);
});

test("our live heap must come back within 1 MiB of warm-up, on the same module instance", () => {
  assert.ok(heapCheck(server([1, 1, 1], [heap(40_000), heap(60_000), heap(50_000)]), 20_000).ok);
  assert.equal(heapCheck(server([1, 1, 1], [heap(40_000), heap(40_000), heap(40_000 + 2 * MiB)]), 20_000).ok, false);
  assert.equal(heapCheck(server([1, 1], [heap(40_000), heap(40_000, { instance_started_ms: 2 })]), 10_000).ok, false);
  // One JS value kept per request is a leak; the margin is one per 20 requests.
  assert.equal(heapCheck(server([1, 1], [heap(0), heap(0, { js_values_live: 700 + 10_000 })]), 10_000).ok, false);
});
