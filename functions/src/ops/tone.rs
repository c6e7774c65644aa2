//! Tone curves — `gamma`, `threshold`, `auto_levels`, `stretch` — each a 256-entry table applied
//! in place (per channel where statistics differ per channel), so none holds a second image.
//! `gamma` and `threshold` are per-pixel ([`Shrink::Point`]); the other two depend on image-wide
//! statistics, so they stay shrink-on-load barriers.
//!
//! `stretch` is the astrophotography "make the faint sky visible" curve: a black point just below
//! the sky background (median − k·MAD, robust against stars), then either an inverse-hyperbolic-sine
//! curve or PixInsight's midtones transfer function. Both are monotonic, so pixel order is kept.

use super::color::{checked, lut, map_colour_samples};
use super::grayscale::{grayscale, luma};
use super::{ApplyCtx, Operation};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::shrink::Shrink;
use crate::spec::{Describe, Lit, Param};
use serde::{Deserialize, Serialize};

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
    fn extra_bytes(&self, _input: u64, _output: u64) -> u64 {
        0
    }
    fn shrink(&self) -> Shrink {
        Shrink::Point
    }
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
        if !self.grayscale {
            channels
        } else if channels.is_multiple_of(2) {
            2
        } else {
            1
        }
    }
    fn extra_bytes(&self, _input: u64, output: u64) -> u64 {
        // Luma of a colour image is a new (smaller) buffer; gray or per-channel is in place.
        if self.grayscale {
            output
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
fn histograms(r: &Raster) -> Result<Vec<[u64; 256]>, ImageError> {
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
fn map_per_channel(mut r: Raster, tables: &[[u8; 256]]) -> Result<Raster, ImageError> {
    let (_, _, ch) = checked(&r)?;
    for p in r.pixels.chunks_exact_mut(ch) {
        for (v, t) in p.iter_mut().zip(tables) {
            *v = t[usize::from(*v)];
        }
    }
    Ok(r)
}

/// The smallest value whose cumulative count exceeds `rank` (0-based), i.e. a percentile.
fn value_at_rank(h: &[u64; 256], rank: u64) -> usize {
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
    fn extra_bytes(&self, _input: u64, _output: u64) -> u64 {
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

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StretchMethod {
    Asinh,
    Midtone,
}

/// `stretch`: astro-style nonlinear stretch of faint detail.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stretch {
    pub method: StretchMethod,
    pub strength: f64,
    /// `None`: chosen so the background lands at 25% (PixInsight's auto STF).
    pub midtone: Option<f64>,
    pub shadows_clip: f64,
    pub linked: bool,
}

/// Where the automatic midtone balance puts the sky background (PixInsight's STF default).
const TARGET_BACKGROUND: f64 = 0.25;

const METHOD: Param<&str> = Param::choice("method", &["asinh", "midtone"])
    .default("midtone")
    .examples(&[Lit::Str("asinh")])
    .describe("asinh: y = asinh(strength x) / asinh(strength); midtone: PixInsight's midtones transfer function");
const STRENGTH: Param<f64> = Param::number("strength", 1.0, 1000.0)
    .default(50.0)
    .examples(&[Lit::Num(50.0)])
    .describe("asinh only: how hard faint values are lifted");
// `None` (the default): chosen from the image, see `Stretch::midtone`.
const MIDTONE: Param<Option<f64>> = Param::number_or("midtone", 0.001, 0.999, "auto")
    .default(None)
    .examples(&[Lit::Str("auto"), Lit::Num(0.1)])
    .describe("midtone only: the balance m (0.5 identity, lower brighter); auto puts the background at 25%");
const SHADOWS_CLIP: Param<f64> = Param::number("shadows_clip", 0.0, 10.0)
    .default(2.8)
    .examples(&[Lit::Num(2.8)])
    .describe("black point in normalised MADs (1.4826 x MAD) below the median");
const LINKED: Param<bool> = Param::flag("linked")
    .default(true)
    .examples(&[Lit::Bool(true)])
    .describe("true: one curve from the luminance for all channels (keeps star colours); false: per channel (neutralises a sky cast)");

impl Operation for Stretch {
    const DESCRIPTION: &'static str = "Astro stretch for faint night-sky detail: black point at median - shadows_clip x MAD, then an asinh curve or PixInsight's midtones transfer (STF). Monotonic; 255 stays 255.";
    const PARAMS: &'static [&'static dyn Describe] = &[&METHOD, &STRENGTH, &MIDTONE, &SHADOWS_CLIP, &LINKED];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let method = match f.get(&METHOD)? {
            "asinh" => StretchMethod::Asinh,
            _ => StretchMethod::Midtone,
        };
        let (strength, midtone) = (f.get(&STRENGTH)?, f.get(&MIDTONE)?);
        Ok(Stretch { method, strength, midtone, shadows_clip: f.get(&SHADOWS_CLIP)?, linked: f.get(&LINKED)? })
    }
    fn extra_bytes(&self, _input: u64, _output: u64) -> u64 {
        0
    }
    // No `shrink`: the black point comes from the noise (MAD), which a downscaled decode
    // averages away, so it is a barrier.
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        let stats = if self.linked {
            let colour = src.layout.channels() - usize::from(src.layout.has_alpha());
            vec![luma_histogram(&src)?; colour]
        } else {
            histograms(&src)?
        };
        let tables: Vec<[u8; 256]> = stats.iter().map(|h| self.table(h)).collect();
        map_per_channel(src, &tables)
    }
}

impl Stretch {
    /// The stretch curve for a channel with histogram `h`.
    pub fn table(&self, h: &[u64; 256]) -> [u8; 256] {
        let n: u64 = h.iter().sum();
        let median = value_at_rank(h, n / 2);
        let mut dev = [0u64; 256];
        for (v, &c) in h.iter().enumerate() {
            dev[v.abs_diff(median)] += c;
        }
        let mad = value_at_rank(&dev, n / 2) as f64 / 255.0;
        let med = median as f64 / 255.0;
        // Keep the black point below white so the curve below has a range to work on.
        let c0 = (med - self.shadows_clip * 1.4826 * mad).clamp(0.0, 254.0 / 255.0);
        let clip = |v: f64| ((v - c0) / (1.0 - c0)).clamp(0.0, 1.0);
        match self.method {
            StretchMethod::Asinh => {
                let (b, norm) = (self.strength, self.strength.asinh());
                lut(|v| (b * clip(v)).asinh() / norm)
            }
            StretchMethod::Midtone => {
                let m = self.midtone.unwrap_or_else(|| {
                    // The m for which mtf(m, background) = TARGET_BACKGROUND.
                    let a = clip(med).max(0.5 / 255.0);
                    let t = TARGET_BACKGROUND;
                    a * (1.0 - t) / (a + t - 2.0 * a * t)
                });
                let m = m.clamp(0.0005, 0.9995);
                // (2m−1)x − m is negative on [0, 1] for m in (0, 1): no division by zero.
                lut(|v| {
                    let x = clip(v);
                    (m - 1.0) * x / ((2.0 * m - 1.0) * x - m)
                })
            }
        }
    }
}

/// Histogram of the luma (the value itself for gray).
fn luma_histogram(r: &Raster) -> Result<[u64; 256], ImageError> {
    let (_, _, ch) = checked(r)?;
    let mut h = [0u64; 256];
    for p in r.pixels.chunks_exact(ch) {
        let l = if ch >= 3 { luma(p[0], p[1], p[2]) } else { p[0] };
        h[usize::from(l)] += 1;
    }
    Ok(h)
}

#[cfg(test)]
#[path = "tone_tests.rs"]
mod tests;
