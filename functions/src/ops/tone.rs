//! Tone curves — `gamma`, `threshold`, `auto_levels` (and `stretch`, in [`super::stretch`]) —
//! each a 256-entry table applied in place (per channel where statistics differ per channel),
//! so none holds a second image. `gamma` and `threshold` are per-pixel ([`Shrink::Point`]); the
//! others depend on image-wide statistics, so they stay shrink-on-load barriers.

use super::color::{checked, lut, map_colour_samples};
use super::grayscale::{grayscale, luma_channels};
use super::{ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::shrink::Shrink;
use crate::spec::{Describe, Lit, Param};
use serde::{Deserialize, Serialize};

// `stretch` lives in its own file; it is a tone curve and is named from here too.
#[cfg(test)]
use super::stretch::luma_histogram;
pub use super::stretch::{Stretch, StretchMethod};

/// `gamma`: `out = in^(1/gamma)` on 0..1, so above 1 lifts the midtones (photon's and libvips'
/// convention).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gamma {
    pub gamma: f64,
}

const GAMMA: Param<f64> = Param::number("gamma", 0.1, 10.0).default(2.2).examples(&[Lit::Num(1.8)]);

impl Operation for Gamma {
    const DESCRIPTION: &'static str = "Gamma curve out = in^(1/gamma): above 1 brightens midtones, below 1 darkens; black and white stay.";
    const PARAMS: &'static [&'static dyn Describe] = &[&GAMMA];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Gamma { gamma: f.get(&GAMMA)? })
    }
    in_place_point_step!();
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        let inv = 1.0 / self.gamma;
        map_colour_samples(src, &lut(|v| v.powf(inv)))
    }
}

/// `threshold`: black below the level, white from it on (sharp's `threshold`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    pub threshold: u8,
    pub grayscale: bool,
}

const THRESHOLD: Param<u8> = Param::byte("threshold", 0, 255).default(128).examples(&[Lit::Int(100)]);
const THRESHOLD_GRAYSCALE: Param<bool> = Param::flag("grayscale")
    .default(true)
    .examples(&[Lit::Bool(true)])
    .describe("true: threshold the luma (one channel out); false: each colour channel on its own");

impl Operation for Threshold {
    const DESCRIPTION: &'static str =
        "Black and white: values below `threshold` become 0, the others 255. By default on luma, giving a gray image; alpha is kept.";
    const PARAMS: &'static [&'static dyn Describe] = &[&THRESHOLD, &THRESHOLD_GRAYSCALE];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Threshold { threshold: f.get(&THRESHOLD)?, grayscale: f.get(&THRESHOLD_GRAYSCALE)? })
    }
    fn output_channels(&self, channels: u8) -> u8 {
        if self.grayscale {
            luma_channels(channels)
        } else {
            channels
        }
    }
    fn extra_bytes(&self, _input: Shape, output: Shape) -> u64 {
        // Luma of a colour image is a new (smaller) buffer; gray or per-channel is in place.
        if self.grayscale {
            output.bytes()
        } else {
            0
        }
    }
    fn shrink(&self) -> Shrink {
        Shrink::Point
    }
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        let src = if self.grayscale { grayscale(src) } else { src };
        let mut table = [0u8; 256];
        for slot in table.iter_mut().skip(usize::from(self.threshold)) {
            *slot = 255;
        }
        map_colour_samples(src, &table)
    }
}

/// Histograms of each colour channel (one for gray) of a raster.
pub(super) fn histograms(r: &Raster) -> Result<Vec<[u64; 256]>, ImageError> {
    let (_, _, ch) = checked(r)?;
    let colour = if r.layout.has_alpha() { ch - 1 } else { ch };
    let mut hists = vec![[0u64; 256]; colour];
    for p in r.pixels.chunks_exact(ch) {
        for (h, &v) in hists.iter_mut().zip(p) {
            h[usize::from(v)] += 1;
        }
    }
    Ok(hists)
}

/// Applies one table per colour channel, in place.
pub(super) fn map_per_channel(mut r: Raster, tables: &[[u8; 256]]) -> Result<Raster, ImageError> {
    let (_, _, ch) = checked(&r)?;
    for p in r.pixels.chunks_exact_mut(ch) {
        for (v, t) in p.iter_mut().zip(tables) {
            *v = t[usize::from(*v)];
        }
    }
    Ok(r)
}

/// The smallest value whose cumulative count exceeds `rank` (0-based), i.e. a percentile.
pub(super) fn value_at_rank(h: &[u64; 256], rank: u64) -> usize {
    let mut seen = 0;
    for (v, &n) in h.iter().enumerate() {
        seen += n;
        if seen > rank {
            return v;
        }
    }
    255
}

/// `auto_levels`: maps each channel's (or all channels') darkest and brightest `clip` percent to
/// 0 and 255.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AutoLevels {
    pub clip: f64,
    pub per_channel: bool,
}

const CLIP: Param<f64> =
    Param::number("clip", 0.0, 10.0).default(0.5).examples(&[Lit::Num(1.0)]).describe("percent of samples clipped at each end");
const PER_CHANNEL: Param<bool> = Param::flag("per_channel")
    .default(true)
    .examples(&[Lit::Bool(false)])
    .describe("true: each colour channel its own levels; false: one curve for all channels");

impl Operation for AutoLevels {
    const DESCRIPTION: &'static str = "Stretch levels so the darkest `clip` percent become black and the brightest white; per channel (also removes colour casts) or linked (keeps colours).";
    const PARAMS: &'static [&'static dyn Describe] = &[&CLIP, &PER_CHANNEL];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(AutoLevels { clip: f.get(&CLIP)?, per_channel: f.get(&PER_CHANNEL)? })
    }
    fn extra_bytes(&self, _input: Shape, _output: Shape) -> u64 {
        0
    }
    // No `shrink`: its levels come from the whole image's histogram, which a downscaled decode
    // changes (averaging trims the extremes), so it is a barrier.
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        let hists = pooled_if(histograms(&src)?, !self.per_channel);
        let tables: Vec<[u8; 256]> = hists
            .iter()
            .map(|h| {
                let n: u64 = h.iter().sum();
                let cut = (n as f64 * self.clip / 100.0) as u64;
                let (lo, hi) = (value_at_rank(h, cut), value_at_rank(h, n.saturating_sub(cut + 1)));
                if hi <= lo {
                    return lut(|v| v); // a flat channel has no range to stretch
                }
                let (lo, span) = (lo as f64 / 255.0, (hi - lo) as f64 / 255.0);
                lut(|v| (v - lo) / span)
            })
            .collect();
        map_per_channel(src, &tables)
    }
}

/// With `pool`, one histogram of all channels repeated per channel, so they share one curve.
fn pooled_if(hists: Vec<[u64; 256]>, pool: bool) -> Vec<[u64; 256]> {
    if !pool {
        return hists;
    }
    let mut all = [0u64; 256];
    for h in &hists {
        for (a, n) in all.iter_mut().zip(h) {
            *a += n;
        }
    }
    vec![all; hists.len()]
}

#[cfg(test)]
#[path = "tone_tests.rs"]
mod tests;
