//! An image's placeholder for lazy loading: a ThumbHash (the `thumbhash` crate, by the
//! format's author), its dominant and average colours and its aspect ratio, computed after an
//! upload from a ≤ 100 px thumbnail.
//!
//! The thumbnail is the chain `resize` to fit 100×100, so the planner and shrink-on-load apply
//! as to any task: a JPEG decodes at 1/8 scale (a 12 MP photo is ~190 k pixels, not 12 M), and an
//! image that cannot fit the memory budget is refused with the planner's figures.

use crate::decode::DecodeOptions;
use crate::error::ImageError;
use crate::format;
use crate::ops::ApplyCtx;
use crate::plan::{self, Limits, Plan};
use crate::raster::{self, Layout, Raster};
use crate::shrink;
use crate::Chain;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// ThumbHash takes at most 100×100 pixels.
pub const THUMB_SIDE: u32 = 100;

/// What a client shows before the image arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placeholder {
    /// The ThumbHash, standard base64.
    pub thumbhash: String,
    /// The most frequent colour (12-bit buckets, the bucket's mean), `#rrggbb`.
    pub dominant_color: String,
    /// The mean colour, alpha-weighted, `#rrggbb`.
    pub average_color: String,
    /// Width / height of the upright image, to 4 decimals.
    pub aspect: f64,
}

// `aspect` is always finite (a ratio of two non-zero sizes), so equality is total.
impl Eq for Placeholder {}

/// The thumbnail chain: `resize` to fit 100×100.
fn chain() -> Result<Chain, ImageError> {
    let steps = serde_json::json!([{"op": "resize", "width": THUMB_SIDE, "height": THUMB_SIDE, "fit": "inside", "filter": "bilinear"}]);
    Chain::parse(&steps).map_err(|e| ImageError::Params(e.to_string()))
}

/// The planned peak of computing the placeholder of `bytes` (refused above the budget).
pub fn plan(bytes: &[u8], limits: Limits) -> Result<Plan, ImageError> {
    let info = format::probe(bytes)?;
    plan::plan(&info, u64::try_from(bytes.len()).unwrap_or(u64::MAX), &chain()?, limits)
}

/// The placeholder of the encoded image `bytes`, within `limits`.
pub fn compute(bytes: Vec<u8>, limits: Limits) -> Result<Placeholder, ImageError> {
    plan(&bytes, limits)?;
    let info = format::probe(&bytes)?;
    let chain = chain()?;
    let opts = DecodeOptions {
        hint: shrink::decode_hint(chain.steps(), info.width, info.height),
        max_pixels: limits.max_pixels,
        max_alloc: limits.decoder_bytes(bytes.len()),
        orient: true,
        keep_profile: false,
    };
    let decoded = raster::load(bytes, &opts)?;
    let resize = chain.steps().first().ok_or_else(|| ImageError::Params("the thumbnail chain is a resize".into()))?;
    let thumb = resize.apply(decoded, &ApplyCtx { aux: &HashMap::new(), max_pixels: limits.max_pixels })?;
    let rgba = to_rgba(&thumb);
    let (w, h) = (thumb.width.min(THUMB_SIDE) as usize, thumb.height.min(THUMB_SIDE) as usize);
    if rgba.len() != w * h * 4 {
        return Err(ImageError::Invalid(format!("a {}x{} thumbnail", thumb.width, thumb.height)));
    }
    let hash = thumbhash::rgba_to_thumb_hash(w, h, &rgba);
    let aspect = (f64::from(info.width) / f64::from(info.height.max(1)) * 1e4).round() / 1e4;
    Ok(Placeholder { thumbhash: STANDARD.encode(hash), dominant_color: hex(dominant(&rgba)), average_color: hex(average(&rgba)), aspect })
}

/// The thumbnail's pixels as RGBA.
fn to_rgba(r: &Raster) -> Vec<u8> {
    let px = |p: &[u8]| match r.layout {
        Layout::Luma8 => [p[0], p[0], p[0], 255],
        Layout::LumaA8 => [p[0], p[0], p[0], p[1]],
        Layout::Rgb8 => [p[0], p[1], p[2], 255],
        Layout::Rgba8 => [p[0], p[1], p[2], p[3]],
    };
    r.pixels.chunks_exact(r.layout.channels()).flat_map(px).collect()
}

/// Alpha-weighted mean colour (black for a fully transparent image).
fn average(rgba: &[u8]) -> [u8; 3] {
    let mut sum = [0u64; 4];
    for p in rgba.chunks_exact(4) {
        let a = u64::from(p[3]);
        (sum[0], sum[1], sum[2], sum[3]) =
            (sum[0] + u64::from(p[0]) * a, sum[1] + u64::from(p[1]) * a, sum[2] + u64::from(p[2]) * a, sum[3] + a);
    }
    let mean = |c: u64| u8::try_from((c + sum[3] / 2) / sum[3].max(1)).unwrap_or(u8::MAX);
    [mean(sum[0]), mean(sum[1]), mean(sum[2])]
}

/// The mean of the most populated 4-bits-per-channel bucket, weighted by alpha.
fn dominant(rgba: &[u8]) -> [u8; 3] {
    let mut buckets = vec![[0u64; 4]; 4096];
    for p in rgba.chunks_exact(4) {
        let b = &mut buckets[(usize::from(p[0] >> 4) << 8) | (usize::from(p[1] >> 4) << 4) | usize::from(p[2] >> 4)];
        let a = u64::from(p[3]);
        (b[0], b[1], b[2], b[3]) = (b[0] + u64::from(p[0]) * a, b[1] + u64::from(p[1]) * a, b[2] + u64::from(p[2]) * a, b[3] + a);
    }
    // The first of equally weighted buckets wins, so the result does not depend on ties.
    let best = buckets.iter().fold(&[0u64; 4], |best, b| if b[3] > best[3] { b } else { best });
    let mean = |c: u64| u8::try_from((c + best[3] / 2) / best[3].max(1)).unwrap_or(u8::MAX);
    [mean(best[0]), mean(best[1]), mean(best[2])]
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

#[cfg(test)]
#[path = "placeholder_tests.rs"]
mod tests;
