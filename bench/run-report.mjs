// The report of bench/run.mjs: the machine it ran on, the targets checked against the figures,
// and the Markdown table docs/BENCHMARKS.md quotes.
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MIB, fmt, round } from "./chains-lib.mjs";

// The kernel issue's targets.
const TARGET_12MP_VS_SHARP = 1.0;
const TARGET_48MP_VS_SHARP = 1.5;
const TARGET_MEMORY_MIB = 128;
const TARGET_VS_PHOTON = 10;

export function machine(root, benchDir) {
  const cpus = os.cpus();
  const pkgVersion = (p) => {
    try {
      return JSON.parse(readFileSync(p, "utf8")).version;
    } catch {
      return null;
    }
  };
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus[0]?.model?.trim() ?? "unknown",
    cores: cpus.length,
    memory_gib: round(os.totalmem() / 1024 ** 3),
    // Other work on the machine skews every figure; the 1-minute load average says how much.
    load_average: os.loadavg().map((x) => round(x, 2)),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    wrangler: pkgVersion(path.join(root, "node_modules/wrangler/package.json")),
    workerd: pkgVersion(path.join(root, "node_modules/workerd/package.json")),
    sharp: pkgVersion(path.join(benchDir, "node_modules/sharp/package.json")),
    photon_node: pkgVersion(path.join(benchDir, "node_modules/@silvia-odwyer/photon-node/package.json")),
  };
}

export function targets(rows) {
  const out = [];
  const check = (name, value, pass, detail) => out.push({ target: name, value, pass, detail });
  // Inputs come as [12 MP, 48 MP] (generated, or picked from --images DIR).
  const [r12, r48] = rows;
  if (r12) check("12 MP: studio ≤ 1.0× sharp", r12.studio_vs_sharp, r12.studio_vs_sharp <= TARGET_12MP_VS_SHARP,
    `${fmt(r12.studio.ms)} ms vs ${fmt(r12.sharp.ms)} ms = ${fmt(r12.studio_vs_sharp, 2)}×`);
  if (r48) {
    check("48 MP: studio ≤ 1.5× sharp", r48.studio_vs_sharp, r48.studio_vs_sharp <= TARGET_48MP_VS_SHARP,
      `${fmt(r48.studio.ms)} ms vs ${fmt(r48.sharp.ms)} ms = ${fmt(r48.studio_vs_sharp, 2)}×`);
    const mib = r48.studio.memory_bytes / MIB;
    check("48 MP: memory_bytes < 128 MiB", mib, mib < TARGET_MEMORY_MIB, `${fmt(mib)} MiB`);
  }
  for (const r of rows) {
    if (r.photon_vs_studio == null) continue;
    check(`${r === r12 ? "12 MP" : "48 MP"} (${r.image}): ≥ 10× faster than photon-node`, r.photon_vs_studio,
      r.photon_vs_studio >= TARGET_VS_PHOTON, `${fmt(r.photon.ms)} ms vs ${fmt(r.studio.ms)} ms = ${fmt(r.photon_vs_studio)}×`);
  }
  return out;
}

export function markdown(result) {
  const m = result.machine;
  const lines = [];
  lines.push(`Decode → resize to ${result.width} px wide (Lanczos3) → JPEG q${result.quality}; medians of ${result.runs} runs ` +
    `(photon-node: ${result.photon_runs}), after ${result.warmup} warm-up runs (photon-node: 1).`);
  lines.push("");
  lines.push("| image | studio (workerd) ms | memory MiB | sharp ms | photon-node ms | studio/sharp | photon/studio |");
  lines.push("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of result.rows) {
    lines.push(`| ${r.image} | ${fmt(r.studio.ms)} | ${fmt(r.studio.memory_bytes / MIB)} | ${fmt(r.sharp.ms)} | ` +
      `${r.photon ? fmt(r.photon.ms) : "—"} | ${fmt(r.studio_vs_sharp, 2)}× | ${r.photon_vs_studio == null ? "—" : fmt(r.photon_vs_studio) + "×"} |`);
  }
  lines.push("");
  lines.push("| target | result | |");
  lines.push("|---|---|---|");
  for (const t of result.targets) lines.push(`| ${t.target} | ${t.detail} | ${t.pass ? "PASS" : "FAIL"} |`);
  lines.push("");
  lines.push("Details (ms; studio = chain − echo round trips):");
  lines.push("");
  lines.push("| image | chain round trip | echo round trip | studio output | sharp output | photon-node peak RSS |");
  lines.push("|---|---:|---:|---|---|---:|");
  for (const r of result.rows) {
    const o = (x) => `${x.width}×${x.height}, ${fmt(x.bytes / 1024, 0)} KiB`;
    const rss = r.photon ? `${fmt(r.photon.max_rss_bytes / MIB, 0)} MiB (process)` : "—";
    lines.push(`| ${r.image} | ${fmt(r.studio.chain_median_ms)} | ${fmt(r.studio.echo_median_ms)} | ${o(r.studio.output)} | ${o(r.sharp.output)} | ${rss} |`);
  }
  lines.push("");
  lines.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, ${m.os}; load average ${result.load_before.join(" ")} before, ${m.load_average.join(" ")} after; Node ${m.node}; ` +
    `wrangler ${m.wrangler} (workerd ${m.workerd}); sharp ${m.sharp} (libvips ${result.libvips}, concurrency ${result.sharp_concurrency}); ` +
    `photon-node ${m.photon_node}; ${m.date}.`);
  return lines.join("\n");
}

