// Helpers of bench/quality.mjs (bytes at equal SSIM against cwebp and libjpeg-turbo): the inputs,
// the peers' encoders, the SSIM of an encoded file against its source, and the rate curves.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { photoPixels } from "./inputs.mjs";
import { luma, ssim } from "./ssim.mjs";

export const WIDTH = 1600;
// Two generated photo-like inputs (bench/inputs.mjs's generator: gradients, soft blobs, value noise
// and sensor noise) with different seeds, so the default run needs no files from outside.
const GENERATED = [{ name: "generated-a.png", seed: 2024 }, { name: "generated-b.png", seed: 7 }];
const FIXTURE_VERSION = 1;

/** The inputs as 1600-px-wide PNGs (lossless, so both encoders get the same pixels). */
export async function inputs(sharp, fixtures, dir) {
  mkdirSync(fixtures, { recursive: true });
  const out = [];
  for (const g of GENERATED) {
    const file = path.join(fixtures, `quality-v${FIXTURE_VERSION}-${g.name}`);
    if (!existsSync(file)) {
      const px = photoPixels(WIDTH, 1200, g.seed);
      writeFileSync(file, await sharp(px, { raw: { width: WIDTH, height: 1200, channels: 3 } }).png().toBuffer());
    }
    out.push({ name: g.name, png: readFileSync(file) });
  }
  for (const f of dir ? readdirSync(dir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort() : []) {
    // Reduced to 1600 px wide by libvips (Lanczos3) after EXIF rotation, as a web delivery would be.
    const png = await sharp(path.join(dir, f)).rotate().resize({ width: WIDTH, kernel: "lanczos3" }).removeAlpha().png().toBuffer();
    out.push({ name: f, png });
  }
  return out;
}

/** The source's luma plane and size, once per input. */
export async function reference(sharp, png) {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { raw: data, width: info.width, height: info.height, luma: luma(data, info.channels) };
}

/** SSIM of `encoded` (any format sharp decodes) against `ref`. */
export async function ssimOf(sharp, ref, encoded) {
  const { data, info } = await sharp(encoded).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== ref.width || info.height !== ref.height) throw new Error(`decoded ${info.width}x${info.height}, source ${ref.width}x${ref.height}`);
  return ssim(ref.luma, luma(data, info.channels), ref.width, ref.height);
}

/** cwebp (Debian's `webp`, libwebp) at `q`, defaults otherwise (method 4, as ours); `-v` reports
 * the encode alone, without reading the PNG. */
export function cwebp(png) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cwebp-"));
  const src = path.join(dir, "in.png"), dst = path.join(dir, "out.webp");
  writeFileSync(src, png);
  return {
    version: execFileSync("cwebp", ["-version"]).toString().trim(),
    encode(q) {
      // -v reports on stderr.
      const run = spawnSync("cwebp", ["-v", "-q", String(q), "-m", "4", src, "-o", dst], { encoding: "utf8" });
      if (run.status !== 0) throw new Error(`cwebp -q ${q} failed: ${run.stderr}`);
      const m = /Time to encode picture:\s*([\d.]+)s/.exec(run.stderr);
      return { bytes: readFileSync(dst), ms: m ? Number(m[1]) * 1000 : null };
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** libjpeg-turbo through sharp (one thread), from the raw pixels, with our encoder's chroma
 * subsampling (4:2:0 below 90, 4:4:4 from 90) so the comparison is of the coders, not of it. */
export function sharpJpeg(sharp, ref) {
  return {
    async encode(q) {
      const t0 = performance.now();
      const bytes = await sharp(ref.raw, { raw: { width: ref.width, height: ref.height, channels: 3 } })
        .jpeg({ quality: q, chromaSubsampling: q >= 90 ? "4:4:4" : "4:2:0", mozjpeg: false }).toBuffer();
      return { bytes, ms: performance.now() - t0 };
    },
  };
}

/**
 * A peer's rate curve near the SSIMs it must match: a grid of qualities, then, for each target
 * SSIM, bisection between the two grid qualities that bracket it down to adjacent qualities.
 * `encode(q)` → {bytes, ms}; returns points {q, bytes, ssim} sorted by quality.
 */
export async function peerCurve(encode, score, targets, grid = [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]) {
  const points = new Map();
  const at = async (q) => {
    if (!points.has(q)) {
      const { bytes } = await encode(q);
      points.set(q, { q, bytes: bytes.length, ssim: await score(bytes) });
    }
    return points.get(q);
  };
  for (const q of grid) await at(q);
  for (const s of targets) {
    let [lo, hi] = bracketQ([...points.values()], s);
    while (lo != null && hi != null && hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((await at(mid)).ssim < s) lo = mid;
      else hi = mid;
    }
  }
  return [...points.values()].sort((a, b) => a.q - b.q);
}

// The adjacent pair of measured qualities whose SSIMs bracket `s` (the curve rises with quality).
function bracketQ(points, s) {
  const sorted = [...points].sort((a, b) => a.q - b.q);
  for (let i = 1; i < sorted.length; i++) if (sorted[i - 1].ssim <= s && s <= sorted[i].ssim) return [sorted[i - 1].q, sorted[i].q];
  return [null, null];
}

/**
 * The peer's bytes at SSIM `s`: interpolated (log bytes, linear in SSIM) between its two
 * measured points that bracket `s`, and the nearest measured point's SSIM distance (≤ 0.002 is
 * "equal SSIM" as the issue states it). `null` outside the peer's measured range.
 */
export function bytesAtSsim(points, s) {
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    if (a.ssim <= s && s <= b.ssim) {
      const t = b.ssim === a.ssim ? 0 : (s - a.ssim) / (b.ssim - a.ssim);
      const bytes = Math.exp(Math.log(a.bytes) + t * (Math.log(b.bytes) - Math.log(a.bytes)));
      return { bytes, nearest: Math.min(s - a.ssim, b.ssim - s), between: [a.q, b.q] };
    }
  }
  return null;
}

export const geomean = (xs) => (xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : null);
