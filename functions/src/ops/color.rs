//! Per-pixel colour steps — `sepia`, `invert`, `brightness`, `contrast`, `saturation`,
//! `hue_rotate` (and `tint`, in [`super::tint`]) — done in place on the raster's own layout (no RGBA copy, no extra memory),
//! with the W3C filter-effects matrices that CSS `filter:` and SVG `feColorMatrix` use. Being
//! per-pixel, they may run on a JPEG shrunk on load ([`Shrink::Point`](crate::shrink::Shrink::Point)).
//!
//! Saturation and hue rotation leave gray unchanged (the matrices' rows sum to 1), so a gray raster
//! stays gray; sepia and tint make colour from gray, so gray becomes RGB (alpha kept).

use super::{ApplyCtx, Operation};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::{Layout, Raster};
use crate::spec::{Describe, Lit, Param};
use serde::{Deserialize, Serialize};

/// `(width, height, channels)` of a raster whose buffer matches its size, so the slicing in the
/// steps cannot go out of bounds even on a hand-built `Raster`.
pub(crate) fn checked(r: &Raster) -> Result<(usize, usize, usize), ImageError> {
    let (w, h, ch) = (r.width as usize, r.height as usize, r.layout.channels());
    if w == 0 || h == 0 || w.checked_mul(h).and_then(|n| n.checked_mul(ch)) != Some(r.pixels.len()) {
        return Err(ImageError::Invalid(format!("{}x{} {:?} raster has {} bytes", r.width, r.height, r.layout, r.pixels.len())));
    }
    Ok((w, h, ch))
}

/// Working memory of [`colourise`]: in place for colour; a new buffer only when gray grows to RGB.
pub(crate) fn colourise_extra_bytes(input: u64, output: u64) -> u64 {
    if output > input {
        output
    } else {
        0
    }
}

/// Gray layouts gain colour (1 → 3, 2 → 4 channels); colour layouts are kept.
pub(crate) fn colour_channels(channels: u8) -> u8 {
    match channels {
        1 => 3,
        2 => 4,
        c => c,
    }
}

/// Applies `f` to the colour channels of every pixel. Colour rasters change in place; a gray one
/// becomes `Rgb8`/`Rgba8` through a 256-entry table (gray in, so only 256 possible results).
pub(crate) fn colourise(src: Raster, f: impl Fn([u8; 3]) -> [u8; 3]) -> Result<Raster, ImageError> {
    let (_, _, ch) = checked(&src)?;
    let Raster { width, height, layout, mut pixels } = src;
    match layout {
        Layout::Rgb8 | Layout::Rgba8 => {
            for p in pixels.chunks_exact_mut(ch) {
                let out = f([p[0], p[1], p[2]]);
                p[..3].copy_from_slice(&out);
            }
            Ok(Raster { width, height, layout, pixels })
        }
        Layout::Luma8 | Layout::LumaA8 => {
            let table: Vec<[u8; 3]> = (0..=255u8).map(|v| f([v, v, v])).collect();
            let colour = |v: u8| table.get(usize::from(v)).copied().unwrap_or([v, v, v]);
            let (layout, pixels) = if layout == Layout::Luma8 {
                (Layout::Rgb8, pixels.iter().flat_map(|&v| colour(v)).collect())
            } else {
                let rgba = pixels.chunks_exact(2).flat_map(|p| {
                    let [r, g, b] = colour(p[0]);
                    [r, g, b, p[1]]
                });
                (Layout::Rgba8, rgba.collect())
            };
            Ok(Raster { width, height, layout, pixels })
        }
    }
}

/// Every colour (non-alpha) sample through a 256-entry table, in place; the layout is kept.
pub(crate) fn map_colour_samples(mut src: Raster, lut: &[u8; 256]) -> Result<Raster, ImageError> {
    let (_, _, ch) = checked(&src)?;
    if !src.layout.has_alpha() {
        // Every byte is a colour sample: one flat loop, no per-pixel chunking.
        src.pixels.iter_mut().for_each(|v| *v = lut[usize::from(*v)]);
        return Ok(src);
    }
    for p in src.pixels.chunks_exact_mut(ch) {
        for v in &mut p[..ch - 1] {
            *v = lut[usize::from(*v)];
        }
    }
    Ok(src)
}

/// A 256-entry table of `f(v / 255) × 255`, rounded and clamped.
pub(crate) fn lut(f: impl Fn(f64) -> f64) -> [u8; 256] {
    let mut t = [0u8; 256];
    for (i, slot) in t.iter_mut().enumerate() {
        *slot = (f(i as f64 / 255.0) * 255.0).round().clamp(0.0, 255.0) as u8;
    }
    t
}

/// A 3×3 colour matrix in 12-bit fixed point, applied to colour rasters in place.
fn matrix(src: Raster, m: [[f64; 3]; 3]) -> Result<Raster, ImageError> {
    let fixed = m.map(|row| row.map(|v| (v * 4096.0).round() as i32));
    colourise(src, |[r, g, b]| {
        let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
        fixed.map(|k| ((k[0] * r + k[1] * g + k[2] * b + 2048) >> 12).clamp(0, 255) as u8)
    })
}

/// The one number parameter of the steps below.
const fn one_number(name: &'static str, range: (f64, f64), default: f64, example: &'static [Lit], description: &'static str) -> Param<f64> {
    Param::number(name, range.0, range.1).default(default).examples(example).describe(description)
}

/// `sepia`: the CSS `sepia(amount)` matrix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sepia {
    pub amount: f64,
}

const SEPIA_AMOUNT: Param<f64> = one_number("amount", (0.0, 1.0), 1.0, &[Lit::Num(0.8)], "0: unchanged, 1: full sepia");

impl Operation for Sepia {
    const DESCRIPTION: &'static str = "Sepia tone (CSS sepia()); gray images become RGB, alpha is kept.";
    const PARAMS: &'static [&'static dyn Describe] = &[&SEPIA_AMOUNT];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Sepia { amount: f.get(&SEPIA_AMOUNT)? })
    }
    colourising_point_step!();
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        let k = 1.0 - self.amount;
        matrix(
            src,
            [
                [0.393 + 0.607 * k, 0.769 - 0.769 * k, 0.189 - 0.189 * k],
                [0.349 - 0.349 * k, 0.686 + 0.314 * k, 0.168 - 0.168 * k],
                [0.272 - 0.272 * k, 0.534 - 0.534 * k, 0.131 + 0.869 * k],
            ],
        )
    }
}

/// `invert`: the negative of the colour channels; alpha is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invert {}

impl Operation for Invert {
    const DESCRIPTION: &'static str = "Negative: every colour channel becomes 255 - value; alpha is kept.";
    const PARAMS: &'static [&'static dyn Describe] = &[];
    fn parse(_f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Invert {})
    }
    in_place_point_step!();
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        map_colour_samples(src, &lut(|v| 1.0 - v))
    }
}

/// `brightness`: multiplies every colour channel (CSS `brightness()`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Brightness {
    pub factor: f64,
}

const BRIGHTNESS_FACTOR: Param<f64> = one_number("factor", (0.0, 10.0), 1.0, &[Lit::Num(1.2)], "multiplier of every colour channel");

impl Operation for Brightness {
    const DESCRIPTION: &'static str =
        "Multiply brightness (CSS brightness()): 1 unchanged, 0 black, 2 twice as bright; the layout is kept.";
    const PARAMS: &'static [&'static dyn Describe] = &[&BRIGHTNESS_FACTOR];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Brightness { factor: f.get(&BRIGHTNESS_FACTOR)? })
    }
    in_place_point_step!();
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        map_colour_samples(src, &lut(|v| v * self.factor))
    }
}

/// `contrast`: scales the distance from mid-gray (CSS `contrast()`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Contrast {
    pub factor: f64,
}

const CONTRAST_FACTOR: Param<f64> =
    one_number("factor", (0.0, 10.0), 1.0, &[Lit::Num(1.3)], "multiplier of each channel's distance from 50% gray");

impl Operation for Contrast {
    const DESCRIPTION: &'static str = "Scale contrast around mid-gray (CSS contrast()): 1 unchanged, 0 flat gray, above 1 stronger.";
    const PARAMS: &'static [&'static dyn Describe] = &[&CONTRAST_FACTOR];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Contrast { factor: f.get(&CONTRAST_FACTOR)? })
    }
    in_place_point_step!();
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        map_colour_samples(src, &lut(|v| (v - 0.5) * self.factor + 0.5))
    }
}

/// `saturation`: the `feColorMatrix type="saturate"` matrix (0 gray, 1 unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Saturation {
    pub factor: f64,
}

const SATURATION_FACTOR: Param<f64> = one_number("factor", (0.0, 10.0), 1.0, &[Lit::Num(1.5)], "saturation multiplier");

impl Operation for Saturation {
    const DESCRIPTION: &'static str =
        "Scale colour saturation (CSS saturate()): 0 gray, 1 unchanged, 2 twice as vivid; gray images are unchanged.";
    const PARAMS: &'static [&'static dyn Describe] = &[&SATURATION_FACTOR];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Saturation { factor: f.get(&SATURATION_FACTOR)? })
    }
    in_place_point_step!();
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        if !matches!(src.layout, Layout::Rgb8 | Layout::Rgba8) {
            return Ok(src);
        }
        let s = self.factor;
        matrix(
            src,
            [
                [0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s],
                [0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s],
                [0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s],
            ],
        )
    }
}

/// `hue_rotate`: the `feColorMatrix type="hueRotate"` matrix, which keeps luminance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HueRotate {
    pub degrees: f64,
}

const HUE_ROTATE_DEGREES: Param<f64> =
    one_number("degrees", (-360.0, 360.0), 0.0, &[Lit::Num(90.0)], "rotation of the colour wheel, degrees");

impl Operation for HueRotate {
    const DESCRIPTION: &'static str = "Rotate hues by an angle (CSS hue-rotate()), keeping luminance; gray images are unchanged.";
    const PARAMS: &'static [&'static dyn Describe] = &[&HUE_ROTATE_DEGREES];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(HueRotate { degrees: f.get(&HUE_ROTATE_DEGREES)? })
    }
    in_place_point_step!();
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        if !matches!(src.layout, Layout::Rgb8 | Layout::Rgba8) {
            return Ok(src);
        }
        let (s, c) = self.degrees.to_radians().sin_cos();
        matrix(
            src,
            [
                [0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715, 0.072 - c * 0.072 + s * 0.928],
                [0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.140, 0.072 - c * 0.072 - s * 0.283],
                [0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715, 0.072 + c * 0.928 + s * 0.072],
            ],
        )
    }
}

#[cfg(test)]
#[path = "color_tests.rs"]
pub(crate) mod tests;
