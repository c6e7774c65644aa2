//! The most bytes a chain's stored output can take, from its planned size alone (before any
//! pixel is decoded): what `POST /tasks` checks against the tenant's storage quota, so a task
//! that could pass it is refused before anything is created.
//!
//! An encoded size is not known until the pixels are encoded, so this is an upper bound per
//! output format, in bytes per output pixel plus fixed overhead, measured on the worst content
//! (uniform noise, at quality 100, every layout: `stored_tests.rs` encodes it with our encoders
//! and fails if any output passes its bound; noise took 4.3 bytes a pixel as JPEG, 4.0 as PNG
//! or lossless WebP). Real images come out far below it (a photo as a
//! quality-85 JPEG takes about a tenth), so a tenant close to its quota is refused tasks that
//! would in fact fit: the price of never letting one pass it (docs/OPERATIONS.md).

use crate::chain::Chain;
use crate::format::ImageInfo;
use crate::metadata::MAX_HELD;
use crate::ops::encode::{EncodeParams, OutputFormat};
use crate::registry::Step;

/// Headers, palettes, tables and framing a format adds besides the pixels (measured at most
/// 750 bytes: a 1×1 progressive JPEG).
const FIXED_BYTES: u64 = 2048;

/// Bytes one zip entry adds besides its data (local header, data descriptor and central
/// directory entry, each with the name, which is at most ~110 bytes, and zip64 fields).
pub const ZIP_ENTRY_BYTES: u64 = 512;
/// The zip's end records (zip64 included).
pub const ZIP_END_BYTES: u64 = 128;

/// What `chain` ends by writing: its last step's `encode`, else the source's own format.
pub fn output_params(info: &ImageInfo, chain: &Chain) -> EncodeParams {
    match chain.steps().last() {
        Some(Step::Encode(p)) => *p,
        _ => EncodeParams::default_for(info.format),
    }
}

/// At most how many bytes the output of `chain` on an image described by `info` takes, when
/// its planned output size ([`crate::plan::Plan::output`]) is `output`.
pub fn output_bound(info: &ImageInfo, chain: &Chain, output: (u32, u32)) -> u64 {
    let p = output_params(info, chain);
    let pixels = u64::from(output.0) * u64::from(output.1);
    let rows = u64::from(output.1);
    let encoded = match p.format {
        // RGBA rows, a filter byte each, through deflate: noise comes out at the raw size
        // (stored blocks); an eighth more covers deflate's framing and chunk headers.
        OutputFormat::Png => (pixels.saturating_mul(4).saturating_add(rows)).saturating_mul(9) / 8,
        // Noise at quality 100 takes 4.3 bytes a pixel in colour (measured: more than the raw
        // RGB, since every coefficient is coded).
        OutputFormat::Jpeg => pixels.saturating_mul(6),
        // VP8L: noise takes its raw 4 bytes a pixel (measured); VP8 at quality 100, 2.2.
        OutputFormat::Webp if p.lossless => pixels.saturating_mul(5),
        OutputFormat::Webp => pixels.saturating_mul(3),
        // 8-bit palette indices, LZW codes up to 12 bits each (noise measured: 1.4).
        OutputFormat::Gif => pixels.saturating_mul(2),
        // AV1 4:4:4 at quality 100 is rav1e's lossless mode: noise measured 3.7 bytes a pixel
        // in colour, the alpha plane's own encode on top.
        OutputFormat::Avif => pixels.saturating_mul(crate::ops::avif::OUTPUT_BYTES),
    };
    let encoded = match p.max_bytes {
        // A `max_bytes` output is refused rather than stored larger.
        Some(max) => encoded.min(u64::from(max)),
        None => encoded,
    };
    let metadata = if p.metadata.is_strip() { 0 } else { MAX_HELD };
    // A kept colour profile is embedded whole, up to the largest one a source may carry.
    let profile = if p.icc.is_convert() { 0 } else { crate::icc::MAX_PROFILE_BYTES as u64 };
    encoded.saturating_add(FIXED_BYTES).saturating_add(metadata).saturating_add(profile)
}

/// At most how many bytes a task stores: its outputs, and the zip of them it builds when it
/// has several images (the zip stores each output again, uncompressed).
pub fn task_bound(outputs: &[u64]) -> u64 {
    let sum = outputs.iter().fold(0u64, |a, b| a.saturating_add(*b));
    if outputs.len() < 2 {
        return sum;
    }
    let zip = sum.saturating_add(ZIP_ENTRY_BYTES.saturating_mul(outputs.len() as u64)).saturating_add(ZIP_END_BYTES);
    sum.saturating_add(zip)
}

#[cfg(test)]
#[path = "stored_tests.rs"]
mod tests;
