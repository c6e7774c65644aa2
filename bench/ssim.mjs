// SSIM (Wang et al. 2004) of two same-size 8-bit images, for the quality benchmark (bench/quality.mjs).
//
// Computed on luma (BT.601, as libwebp's and most codec comparisons do) with the paper's 11×11
// Gaussian window (σ = 1.5), K1 = 0.01, K2 = 0.03, L = 255, averaged over every valid window
// position. Hand-written (~50 lines of arithmetic) rather than a dependency: the bench already
// decodes with sharp, and SSIM on a luma plane needs nothing else; tests/js/quality-bench.test.mjs
// checks its properties (identical = 1, symmetric, falling with distortion).

const SIGMA = 1.5;
const RADIUS = 5;
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

const KERNEL = (() => {
  const k = [];
  for (let i = -RADIUS; i <= RADIUS; i++) k.push(Math.exp(-(i * i) / (2 * SIGMA * SIGMA)));
  const sum = k.reduce((a, b) => a + b, 0);
  return Float64Array.from(k, (v) => v / sum);
})();

/** Luma plane (Float64Array) of interleaved 8-bit pixels with `channels` per pixel. */
export function luma(pixels, channels) {
  const n = pixels.length / channels;
  const out = new Float64Array(n);
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    out[i] = channels >= 3 ? 0.299 * pixels[p] + 0.587 * pixels[p + 1] + 0.114 * pixels[p + 2] : pixels[p];
  }
  return out;
}

/** Separable Gaussian blur of `src` (w×h), keeping only positions where the window fits. */
function blur(src, w, h) {
  const ow = w - 2 * RADIUS, oh = h - 2 * RADIUS;
  const rows = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < KERNEL.length; k++) s += KERNEL[k] * src[y * w + x + k];
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < KERNEL.length; k++) s += KERNEL[k] * rows[(y + k) * ow + x];
      out[y * ow + x] = s;
    }
  }
  return out;
}

/** Mean SSIM of luma planes `a` and `b` (Float64Array, w×h each). */
export function ssim(a, b, w, h) {
  if (a.length !== w * h || b.length !== w * h) throw new Error(`ssim: planes are not ${w}x${h}`);
  if (w <= 2 * RADIUS || h <= 2 * RADIUS) throw new Error(`ssim: ${w}x${h} is smaller than the 11x11 window`);
  const prod = (x, y) => Float64Array.from(x, (v, i) => v * y[i]);
  const [ma, mb] = [blur(a, w, h), blur(b, w, h)];
  const [saa, sbb, sab] = [blur(prod(a, a), w, h), blur(prod(b, b), w, h), blur(prod(a, b), w, h)];
  let total = 0;
  for (let i = 0; i < ma.length; i++) {
    const [ua, ub] = [ma[i], mb[i]];
    const va = saa[i] - ua * ua, vb = sbb[i] - ub * ub, cov = sab[i] - ua * ub;
    total += ((2 * ua * ub + C1) * (2 * cov + C2)) / ((ua * ua + ub * ub + C1) * (va + vb + C2));
  }
  return total / ma.length;
}
