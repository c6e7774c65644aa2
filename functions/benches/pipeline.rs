//! Native benches of the imaging pipeline (`cargo bench -p functions`) on photo-like JPEGs made
//! in-process, or on `STUDIO_BENCH_IMAGES=<dir>`'s `12mp.jpg` and `48mp.jpg`:
//! the whole chain "decode → resize to 1600 px wide (Lanczos3) → JPEG q80" as the queue runs it,
//! then each of its parts alone, so that the split of the time is visible. One thread throughout
//! (nothing in the pipeline spawns threads). The in-workerd comparison with sharp and photon-node
//! is `bash scripts/bench.sh`; see docs/BENCHMARKS.md.
//!
//! Small sample counts keep the whole run well under two minutes on 2 cores.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode};
use functions::decode::DecodeOptions;
use functions::ops::encode::{encode, EncodeParams, OutputFormat};
use functions::ops::resize::{resize, Filter, Fit, ResizeParams};
use functions::plan::Limits;
use functions::raster::{self, Raster};
use functions::session::run_chain;
use functions::Chain;
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

const MAX_PIXELS: u64 = 100_000_000;
/// The Worker's defaults (MAX_INPUT_PIXELS, MEMORY_BUDGET_BYTES).
const LIMITS: Limits = Limits { max_pixels: MAX_PIXELS, memory_budget: 100_663_296 };

/// The `megapixels` benchmark input: `$STUDIO_BENCH_IMAGES/<n>mp.jpg` when set, else a 4:3
/// baseline JPEG (q90) of smooth gradients with fine texture, made here so the bench needs no
/// file from outside the repository.
fn image(megapixels: u32) -> Vec<u8> {
    if let Some(dir) = std::env::var_os("STUDIO_BENCH_IMAGES") {
        let path = PathBuf::from(dir).join(format!("{megapixels}mp.jpg"));
        return std::fs::read(&path).unwrap_or_else(|e| panic!("read the benchmark input {}: {e}", path.display()));
    }
    let (w, h) = if megapixels <= 12 { (4000, 3000) } else { (8000, 6000) };
    let mut seed = 0x9e37_79b9_u32;
    let pixels: Vec<u8> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .flat_map(|(x, y)| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let grain = seed >> 28;
            [(x * 255 / w + grain) as u8, (y * 255 / h + grain) as u8, ((x + y) * 127 / (w + h) + 64 + grain) as u8]
        })
        .collect();
    let raster = Raster::new(w, h, functions::raster::Layout::Rgb8, pixels).expect("a benchmark raster");
    encode(raster, &EncodeParams::new(OutputFormat::Jpeg, 90)).expect("encode the benchmark input")
}

fn resize_params() -> ResizeParams {
    ResizeParams {
        width: Some(1600),
        height: None,
        fit: Fit::Inside,
        filter: Filter::Lanczos3,
        background: [0, 0, 0, 255],
        gravity: Default::default(),
    }
}

fn jpeg_q80() -> EncodeParams {
    EncodeParams::new(OutputFormat::Jpeg, 80)
}

/// Decodes at the size the chain's resize asks for (DCT scaling: 4000×3000 → 2000×1500).
fn shrink_on_load() -> DecodeOptions {
    DecodeOptions { hint: Some((1600, 1200)), max_pixels: MAX_PIXELS, max_alloc: LIMITS.memory_budget, orient: true, keep_profile: false }
}

fn pipeline(c: &mut Criterion) {
    let jpeg12 = image(12);
    let jpeg48 = image(48);
    let chain = Chain::parse(&json!([
        {"op": "resize", "width": 1600, "filter": "lanczos3"},
        {"op": "encode", "format": "jpeg", "quality": 80}
    ]))
    .expect("the benchmark chain is valid");
    let aux = HashMap::new();

    // The inputs of the part benches, made once and checked.
    let decoded: Raster = raster::load(jpeg12.clone(), &shrink_on_load()).expect("decode the 12 MP input");
    assert_eq!((decoded.width, decoded.height), (2000, 1500), "shrink-on-load should decode at 1/2 scale");
    let resized = resize(decoded.clone(), &resize_params()).expect("resize");
    assert_eq!((resized.width, resized.height), (1600, 1200));
    let out = run_chain(&chain, jpeg12.clone(), LIMITS, &aux).expect("run the chain");
    assert_eq!((out.width, out.height), (1600, 1200));

    let mut g = c.benchmark_group("12mp");
    // Flat sampling: every sample runs the same number of iterations (these take tens of ms).
    g.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));

    g.bench_function("chain: decode+resize 1600 lanczos3+jpeg q80", |b| {
        b.iter_batched(|| jpeg12.clone(), |bytes| run_chain(&chain, bytes, LIMITS, &aux).expect("chain"), BatchSize::LargeInput)
    });
    g.bench_function("decode, shrink-on-load to 2000x1500", |b| {
        b.iter_batched(|| jpeg12.clone(), |bytes| raster::load(bytes, &shrink_on_load()).expect("decode"), BatchSize::LargeInput)
    });
    g.bench_function("decode, full size 4000x3000", |b| {
        let opts = DecodeOptions { hint: None, ..shrink_on_load() };
        b.iter_batched(|| jpeg12.clone(), |bytes| raster::load(bytes, &opts).expect("decode"), BatchSize::LargeInput)
    });
    g.bench_function("resize 2000x1500 -> 1600x1200 lanczos3", |b| {
        b.iter_batched(|| decoded.clone(), |r| resize(r, &resize_params()).expect("resize"), BatchSize::LargeInput)
    });
    g.bench_function("encode 1600x1200 jpeg q80", |b| {
        b.iter_batched(|| resized.clone(), |r| encode(r, &jpeg_q80()).expect("encode"), BatchSize::LargeInput)
    });
    g.finish();

    // The big one, whole chain only (decode is 1/4 scale: 8000×6000 → 2000×1500).
    let mut g = c.benchmark_group("48mp");
    g.sample_size(10).sampling_mode(SamplingMode::Flat).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    g.bench_function("chain: decode+resize 1600 lanczos3+jpeg q80", |b| {
        b.iter_batched(|| jpeg48.clone(), |bytes| run_chain(&chain, bytes, LIMITS, &aux).expect("chain"), BatchSize::LargeInput)
    });
    g.bench_function("decode, shrink-on-load to 2000x1500", |b| {
        b.iter_batched(|| jpeg48.clone(), |bytes| raster::load(bytes, &shrink_on_load()).expect("decode"), BatchSize::LargeInput)
    });
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
