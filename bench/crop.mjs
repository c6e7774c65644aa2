// Agreement of the studio's `smart_crop` with sharp's `position: "attention"` (and "entropy"),
// through the public routes: each image is uploaded, a task runs
//   [{resize to the size sharp's cover resize scales to}, {smart_crop w×h, strategy}]
// and the `box` of its output is compared with the crop offsets sharp reports for
//   sharp(img).rotate().resize(w, h, {fit: "cover", position: "attention"})
// as IoU (intersection over union of the two w×h windows in the resized image).
//   node bench/crop.mjs [--images DIR]   (bash scripts/bench.sh crop [--images DIR])
// Inputs: photo-like scenes generated here (a salient subject — skin-toned, saturated or
// detailed — on textured backgrounds, at varied places), plus every .jpg/.png of DIR.
// Prints a markdown table and writes bench/crop-results.json.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mintToken, runBench, startServer, stopServer } from "./server.mjs";
import { fmt, log, median, studioClient } from "./chains-lib.mjs";
import { prng } from "./inputs.mjs";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const sharp = require("sharp");

const TARGETS = [[400, 400], [300, 450], [480, 270]];
const STRATEGIES = ["attention", "entropy"];

// A W×H scene: a two-tone gradient with soft value noise, and one subject — a skin-toned face
// with darker features, a saturated red object, or a detailed checker — of 10–25% of the short
// side at a random place.
function scene(W, H, seed) {
  const rnd = prng(seed);
  const px = new Uint8ClampedArray(W * H * 3);
  const top = [60 + rnd() * 120, 90 + rnd() * 100, 120 + rnd() * 100], bottom = [40 + rnd() * 80, 60 + rnd() * 80, 30 + rnd() * 60];
  const kind = seed % 3, r = Math.min(W, H) * (0.1 + rnd() * 0.15) / 2;
  const cx = r + rnd() * (W - 2 * r), cy = r + rnd() * (H - 2 * r);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3, t = y / H, n = (rnd() - 0.5) * 12;
      let c = [0, 1, 2].map((k) => top[k] * (1 - t) + bottom[k] * t + n);
      const d = Math.hypot(x - cx, y - cy) / r;
      if (d <= 1) {
        if (kind === 0) c = (Math.hypot(x - cx + r * 0.35, y - cy + r * 0.2) < r * 0.12 || Math.hypot(x - cx - r * 0.35, y - cy + r * 0.2) < r * 0.12 || (Math.abs(y - cy - r * 0.4) < r * 0.06 && Math.abs(x - cx) < r * 0.35)) ? [70, 40, 30] : [226 + n, 178 + n, 146 + n];
        else if (kind === 1) c = [210 + n, 30 + n, 40 + n];
        else c = ((Math.floor(x / 4) + Math.floor(y / 4)) % 2) ? [240, 240, 230] : [20, 20, 30];
      }
      px.set(c, i);
    }
  }
  return sharp(px, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

async function inputs(dir) {
  const out = [];
  const sizes = [[1600, 1067], [1200, 1600], [2000, 1125], [1024, 1024]];
  for (let s = 0; s < 12; s++) {
    const [w, h] = sizes[s % sizes.length];
    out.push({ name: `scene-${s}-${["face", "red", "detail"][s % 3]}.jpg`, buf: await scene(w, h, 1000 + s) });
  }
  if (dir) {
    for (const f of readdirSync(dir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort()) out.push({ name: f, buf: readFileSync(path.join(dir, f)) });
  }
  return out;
}

const iou = (a, b) => {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = ix * iy;
  return inter / (a.width * a.height + b.width * b.height - inter);
};

async function compare(studio, img, [w, h], strategy) {
  // The size sharp's cover resize scales to (fit "outside" is that resize without the crop).
  const outside = await sharp(img.buf).rotate().resize(w, h, { fit: "outside" }).toBuffer({ resolveWithObject: true });
  const { info } = await sharp(img.buf).rotate().resize(w, h, { fit: "cover", position: strategy }).toBuffer({ resolveWithObject: true });
  const theirs = { x: Math.abs(info.cropOffsetLeft ?? 0), y: Math.abs(info.cropOffsetTop ?? 0), width: w, height: h };
  const steps = [
    { op: "resize", width: outside.info.width, height: outside.info.height, fit: "fill" },
    { op: "smart_crop", width: w, height: h, strategy },
    { op: "encode", format: "png" },
  ];
  const run = await studio.run({ images: [img.id], steps });
  if (run.outcome !== "succeeded") throw new Error(`${img.name}: task ${run.outcome}: ${JSON.stringify(run.error)}`);
  const ours = run.output.box;
  return { image: img.name, target: `${w}x${h}`, strategy, resized: `${outside.info.width}x${outside.info.height}`, ours, sharp: theirs, iou: iou(ours, theirs) };
}

async function main() {
  const dirArg = process.argv.indexOf("--images");
  const dir = dirArg > 0 ? process.argv[dirArg + 1] : null;
  const images = await inputs(dir);
  const server = await startServer({ RATE_LIMIT_PER_MINUTE: "100000000" });
  const studio = studioClient(server.port, mintToken("crop-bench"));
  for (const img of images) img.id = await studio.upload(img.buf, img.name.endsWith(".png") ? "image/png" : "image/jpeg");
  const rows = [];
  for (const img of images) {
    for (const target of TARGETS) {
      for (const strategy of STRATEGIES) {
        const row = await compare(studio, img, target, strategy);
        log(`${row.image} ${row.target} ${strategy}: IoU ${row.iou.toFixed(3)} (ours ${row.ours.x},${row.ours.y}; sharp ${row.sharp.x},${row.sharp.y})`);
        rows.push(row);
      }
    }
  }
  await stopServer(server);
  const summary = STRATEGIES.map((s) => {
    const ious = rows.filter((r) => r.strategy === s).map((r) => r.iou);
    const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
    return { strategy: s, crops: ious.length, mean_iou: mean, median_iou: median(ious), at_least_half: ious.filter((x) => x >= 0.5).length / ious.length };
  });
  const md = [
    `| strategy (studio vs sharp ${sharp.versions?.sharp ?? "?"}, libvips ${sharp.versions?.vips ?? "?"}) | crops | mean IoU | median IoU | IoU ≥ 0.5 |`,
    "|---|---|---|---|---|",
    ...summary.map((s) => `| ${s.strategy} | ${s.crops} | ${fmt(s.mean_iou, 3)} | ${fmt(s.median_iou, 3)} | ${fmt(100 * s.at_least_half, 0)}% |`),
    "",
    `Inputs: ${images.length} images (${images.map((i) => i.name).join(", ")}); targets ${TARGETS.map((t) => t.join("×")).join(", ")}.`,
  ].join("\n");
  writeFileSync(path.join(benchDir, "crop-results.json"), JSON.stringify({ kind: "quality through the public routes", summary, rows }, null, 2));
  console.log(md);
}

runBench(main, log);
