// The benchmarks' inputs: generated photo-like JPEGs (or a folder's own), distinct upload
// variants of one JPEG, and the tiny PNGs of the orchestration case. Shared by bench/chains.mjs,
// bench/run.mjs and bench/render.mjs.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { log } from "./chains-lib.mjs";

// Generated inputs: photo-like baseline JPEGs (4:2:0, q90) with EXIF Orientation 6, made once
// and cached in bench/fixtures/ (gitignored). Deterministic: the same bytes on every machine
// with the same sharp. Content: a sky-to-ground gradient, large soft colour blobs, three octaves
// of value noise (texture) and per-pixel sensor noise, so it compresses like a photo (~3 MB at 12 MP).

const FIXTURE_VERSION = 1;
export const GENERATED = [
  { name: "photo-12mp.jpg", width: 4000, height: 3000 },
  { name: "photo-48mp.jpg", width: 8000, height: 6000 },
];

/** mulberry32: a seeded generator of floats in [0, 1), the same sequence on every machine. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function photoPixels(W, H, seed) {
  const rnd = prng(seed);
  const px = new Uint8ClampedArray(W * H * 3); // clamps (a Buffer would wrap modulo 256)
  // Soft blobs: separable Gaussians, in relative coordinates so both sizes look alike.
  const blobs = Array.from({ length: 7 }, () => {
    const cx = rnd() * W, cy = rnd() * H, s = (0.08 + rnd() * 0.2) * W;
    const gx = Float32Array.from({ length: W }, (_, x) => Math.exp(-(((x - cx) / s) ** 2)));
    const gy = Float32Array.from({ length: H }, (_, y) => Math.exp(-(((y - cy) / s) ** 2)));
    return { gx, gy, c: [rnd() * 140 - 70, rnd() * 140 - 70, rnd() * 140 - 70] };
  });
  // Value noise: random grids at 48 and 9 px spacing, bilinearly interpolated.
  const octaves = [{ step: 48, amp: 26 }, { step: 9, amp: 14 }, { step: 3, amp: 16 }].map(({ step, amp }) => {
    const gw = Math.ceil(W / step) + 2, gh = Math.ceil(H / step) + 2;
    const grid = Float32Array.from({ length: gw * gh }, () => (rnd() - 0.5) * amp);
    const ix = Int32Array.from({ length: W }, (_, x) => Math.floor(x / step));
    const fx = Float32Array.from({ length: W }, (_, x) => x / step - Math.floor(x / step));
    return { step, gw, grid, ix, fx };
  });
  const noise = Float32Array.from({ length: 1 << 16 }, () => (rnd() + rnd() + rnd() - 1.5) * 11); // sensor noise, σ≈5.5
  let n = 0;
  const sky = [[70, 120, 190], [225, 205, 175]], ground = [[95, 110, 60], [45, 55, 35]];
  for (let y = 0; y < H; y++) {
    const v = y / H, horizon = 0.55;
    const [a, b, t] = v < horizon ? [sky[0], sky[1], v / horizon] : [ground[0], ground[1], (v - horizon) / (1 - horizon)];
    const base = [0, 1, 2].map((c) => a[c] + (b[c] - a[c]) * t);
    const rows = octaves.map((o) => {
      const gy = Math.floor(y / o.step), fy = y / o.step - gy;
      return { o, r0: gy * o.gw, r1: (gy + 1) * o.gw, fy };
    });
    for (let x = 0; x < W; x++) {
      let tex = 0;
      for (const { o, r0, r1, fy } of rows) {
        const i = o.ix[x], f = o.fx[x], g = o.grid;
        const top = g[r0 + i] + (g[r0 + i + 1] - g[r0 + i]) * f, bot = g[r1 + i] + (g[r1 + i + 1] - g[r1 + i]) * f;
        tex += top + (bot - top) * fy;
      }
      let r = base[0] + tex, gg = base[1] + tex, bb = base[2] + tex * 0.8;
      for (const bl of blobs) {
        const w = bl.gx[x] * bl.gy[y];
        r += bl.c[0] * w, gg += bl.c[1] * w, bb += bl.c[2] * w;
      }
      const o3 = (y * W + x) * 3;
      px[o3] = r + noise[n++ & 0xffff];
      px[o3 + 1] = gg + noise[(n += 7) & 0xffff];
      px[o3 + 2] = bb + noise[(n += 13) & 0xffff];
    }
  }
  return Buffer.from(px.buffer);
}

// `names`: which of GENERATED (all by default; bench/render.mjs needs only the 12 MP one).
export async function generatedImages(sharp, dir, names = GENERATED.map((g) => g.name)) {
  mkdirSync(dir, { recursive: true });
  const out = [];
  for (const [i, g] of GENERATED.entries()) {
    if (!names.includes(g.name)) continue;
    const file = path.join(dir, `v${FIXTURE_VERSION}-${g.name}`);
    if (!existsSync(file)) {
      log(`generating ${path.basename(file)} (${g.width}×${g.height}, once; cached in ${dir})`);
      const px = photoPixels(g.width, g.height, 1234 + i);
      const buf = await sharp(px, { raw: { width: g.width, height: g.height, channels: 3 } })
        .withMetadata({ orientation: 6 }) // stored landscape, shown portrait, as phones do
        .jpeg({ quality: 90, chromaSubsampling: "4:2:0", progressive: false, mozjpeg: false })
        .toBuffer();
      writeFileSync(file + ".tmp", buf);
      renameSync(file + ".tmp", file);
    }
    out.push({ name: g.name, file, buf: readFileSync(file) });
  }
  return out;
}

// --images DIR: the 12 MP and 48 MP JPEGs of DIR, by name (*12mp*, *48mp*, "photo" first),
// else by pixel count.
export async function imagesFromDir(sharp, dir) {
  const files = readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort((a, b) => (/photo/i.test(b) - /photo/i.test(a)) || a.localeCompare(b));
  if (!files.length) throw new Error(`--images ${dir}: no .jpg files there`);
  const meta = [];
  for (const f of files) {
    const m = await sharp(path.join(dir, f)).metadata();
    meta.push({ f, px: m.width * m.height });
  }
  const pick = (tag, px) => meta.find((m) => new RegExp(tag, "i").test(m.f)) ?? [...meta].sort((a, b) => Math.abs(a.px - px) - Math.abs(b.px - px))[0];
  return [pick("12mp", 12e6), pick("48mp", 48e6)].map((m, i) => ({ name: m.f, file: path.join(dir, m.f), buf: readFileSync(path.join(dir, m.f)), size: i ? "48 MP" : "12 MP" }));
}

// A distinct variant of a JPEG: a COM segment holding `tag` after the leading APPn segments
// (EXIF must stay first after SOI for readers that look only there). Pixels are unchanged.
export function jpegVariant(buf, tag) {
  if (buf[0] !== 0xff || buf[1] !== 0xd8) throw new Error("not a JPEG (no SOI)");
  let pos = 2;
  while (pos + 4 <= buf.length && buf[pos] === 0xff && buf[pos + 1] >= 0xe0 && buf[pos + 1] <= 0xef) pos += 2 + buf.readUInt16BE(pos + 2);
  const text = Buffer.from(`stellar-bench ${tag}`, "latin1");
  const com = Buffer.alloc(4);
  com.writeUInt16BE(0xfffe, 0);
  com.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([buf.subarray(0, pos), com, text, buf.subarray(pos)]);
}

// The orchestration case's tiny input: a 64×64 PNG whose colour encodes `n` (distinct bytes).
export function tinyPng(sharp, n) {
  return sharp({ create: { width: 64, height: 64, channels: 3, background: { r: n & 255, g: (n >> 8) & 255, b: (n >> 16) & 255 } } }).png().toBuffer();
}
