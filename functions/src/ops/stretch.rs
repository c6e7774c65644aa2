//! `stretch`, the astrophotography "make the faint sky visible" tone curve: a black point just
//! below the sky background (median − k·MAD, robust against stars), then either an
//! inverse-hyperbolic-sine curve or PixInsight's midtones transfer function. Both are monotonic,
//! so pixel order is kept; the statistics are image-wide, so it is a shrink-on-load barrier.
//! Shares the histogram helpers of [`super::tone`].

use super::color::{checked, lut};
use super::grayscale::luma;
use super::tone::{histograms, map_per_channel, value_at_rank};
use super::{ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::spec::{Describe, Lit, Param};
use serde::{Deserialize, Serialize};

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
    fn extra_bytes(&self, _input: Shape, _output: Shape) -> u64 {
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
pub(super) fn luma_histogram(r: &Raster) -> Result<[u64; 256], ImageError> {
    let (_, _, ch) = checked(r)?;
    let mut h = [0u64; 256];
    for p in r.pixels.chunks_exact(ch) {
        let l = if ch >= 3 { luma(p[0], p[1], p[2]) } else { p[0] };
        h[usize::from(l)] += 1;
    }
    Ok(h)
}
