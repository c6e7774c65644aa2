// The quality benchmark's own arithmetic (bench/ssim.mjs, bench/quality-lib.mjs): its verdicts
// (bytes at equal SSIM) are only as good as the SSIM and the interpolation behind them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { luma, ssim } from "../../bench/ssim.mjs";
import { bytesAtSsim } from "../../bench/quality-lib.mjs";

// A deterministic textured 64×48 plane and a copy with uniform noise of ±`amp` added.
function plane(seed = 1) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return Float64Array.from({ length: 64 * 48 }, (_, i) => 100 + 60 * Math.sin(i / 7) + 20 * rnd());
}
const noisy = (p, amp, seed = 9) => {
  let s = seed;
  const rnd = () => ((s = (s * 69069 + 1) >>> 0) / 2 ** 32);
  return p.map((v) => Math.min(255, Math.max(0, v + (rnd() * 2 - 1) * amp)));
};

test("SSIM is 1 for identical images and symmetric", () => {
  const a = plane(), b = noisy(a, 10);
  assert.equal(ssim(a, a, 64, 48), 1);
  assert.ok(Math.abs(ssim(a, b, 64, 48) - ssim(b, a, 64, 48)) < 1e-12);
});

test("SSIM falls as the distortion grows and stays in (0, 1)", () => {
  const a = plane();
  const scores = [2, 8, 32].map((amp) => ssim(a, noisy(a, amp), 64, 48));
  assert.ok(scores[0] > scores[1] && scores[1] > scores[2], scores.join(" "));
  assert.ok(scores.every((s) => s > 0 && s < 1), scores.join(" "));
});

test("the luma of gray RGB pixels is their gray level", () => {
  const rgb = Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => (Math.floor(i / 3) * 5) % 256);
  const y = luma(rgb, 3);
  assert.ok(Math.abs(y[10] - rgb[30]) < 1e-9);
});

test("the peer's bytes at an SSIM are interpolated between the bracketing qualities", () => {
  const curve = [{ q: 50, bytes: 1000, ssim: 0.9 }, { q: 60, bytes: 4000, ssim: 0.94 }];
  const mid = bytesAtSsim(curve, 0.92);
  assert.equal(Math.round(mid.bytes), 2000, "log-linear: halfway in SSIM is the geometric mean");
  assert.deepEqual(mid.between, [50, 60]);
  assert.ok(Math.abs(mid.nearest - 0.02) < 1e-12);
  assert.equal(bytesAtSsim(curve, 0.95), null, "outside the measured range");
});
