//! `smart_crop`: a `width × height` window placed where the image is most interesting, and the
//! box it chose reported ([`Region`]).
//!
//! The window is placed on a small grid of scores ([`super::saliency`]), so the analysis costs
//! one pass over the pixels and a fixed amount of memory whatever the image's size; the box is
//! scaled back to the image's pixels and the cut made in place.
//! - `entropy`: the window position whose cells hold the most local Shannon entropy (a summed
//!   table over the 128-cell grid; ties go to the position nearest the centre).
//! - `attention`: libvips' heuristic (sharp's `position: "attention"`): the window is centred on
//!   the maximum of the blurred attention map, then kept inside the image.

use super::region::{cut, Region};
use super::saliency::{attention_map, entropy_map, Grid, MAP_BYTES};
use super::{canvas::check, ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::registry::MAX_DIMENSION;
use crate::spec::{Describe, Lit, Param};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    Entropy,
    Attention,
}

/// `smart_crop`: the window's size and how to find its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmartCrop {
    pub width: u32,
    pub height: u32,
    pub strategy: Strategy,
}

const WIDTH: Param<u32> = Param::uint("width", 1, MAX_DIMENSION).required().examples(&[Lit::Int(400)]);
const HEIGHT: Param<u32> = Param::uint("height", 1, MAX_DIMENSION).required().examples(&[Lit::Int(400)]);
const STRATEGY: Param<&str> = Param::choice("strategy", &["entropy", "attention"])
    .default("attention")
    .describe("attention: skin tones, saturation and edges (libvips/sharp's heuristic); entropy: the most detailed window");

impl Operation for SmartCrop {
    const DESCRIPTION: &'static str = "Cut out a width×height window where the image is most interesting (`strategy`: attention or entropy); a window larger than the image is clipped to it. The chosen box is reported as `box` in `step.succeeded` and the task's outputs. Resize with fit=outside-like dimensions first to crop a thumbnail the way sharp's position=attention does.";
    const PARAMS: &'static [&'static dyn Describe] = &[&WIDTH, &HEIGHT, &STRATEGY];

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let (width, height) = (f.get(&WIDTH)?, f.get(&HEIGHT)?);
        let strategy = if f.get(&STRATEGY)? == "entropy" { Strategy::Entropy } else { Strategy::Attention };
        Ok(SmartCrop { width, height, strategy })
    }

    fn output_dims(&self, width: u32, height: u32) -> Result<(u32, u32), ImageError> {
        Ok((self.width.min(width), self.height.min(height)))
    }

    fn extra_bytes(&self, input: Shape, _output: Shape) -> u64 {
        // The score grid and the cell of every pixel column and row (a usize each; the sides are
        // bounded only by the pixel count); the cut itself moves rows inside the input buffer.
        MAP_BYTES + (u64::from(input.width) + u64::from(input.height)) * 8
    }

    fn apply(&self, src: Raster, ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        self.apply_boxed(src, ctx).map(|(r, _)| r)
    }

    fn apply_boxed(&self, src: Raster, _ctx: &ApplyCtx) -> Result<(Raster, Option<Region>), ImageError> {
        check(&src)?;
        let region = self.locate(&src);
        Ok((cut(src, region)?, Some(region)))
    }
}

impl SmartCrop {
    /// The window this step keeps of `src`.
    pub fn locate(&self, src: &Raster) -> Region {
        let (w, h) = (self.width.min(src.width), self.height.min(src.height));
        let (x, y) = match self.strategy {
            Strategy::Attention => centred_on_peak(&attention_map(src, (w, h)), (src.width, src.height), (w, h)),
            Strategy::Entropy => densest_window(&entropy_map(src), (src.width, src.height), (w, h)),
        };
        Region { x, y, width: w, height: h }
    }
}

/// Pixel position of the start of cell `c` of `cells` along `len` pixels.
fn pixel_of(c: usize, cells: usize, len: u32) -> u64 {
    (c as u64 * u64::from(len)) / cells.max(1) as u64
}

/// Keeps a window of `size` starting at `start` (possibly negative) inside `len`.
fn clip(start: i64, size: u32, len: u32) -> u32 {
    u32::try_from(start.clamp(0, i64::from(len - size.min(len)))).unwrap_or(0)
}

/// libvips: the window centred on the first maximum of the map, kept inside the image.
fn centred_on_peak(grid: &Grid, (iw, ih): (u32, u32), (w, h): (u32, u32)) -> (u32, u32) {
    let best = grid.scores.iter().enumerate().fold((0, f64::NEG_INFINITY), |b, (i, &s)| if s > b.1 { (i, s) } else { b }).0;
    let (cx, cy) = (best % grid.cells.0.max(1), best / grid.cells.0.max(1));
    let (px, py) = (pixel_of(cx, grid.cells.0, iw) as i64, pixel_of(cy, grid.cells.1, ih) as i64);
    (clip(px - i64::from(w / 2), w, iw), clip(py - i64::from(h / 2), h, ih))
}

/// The window position of most total score on the grid (a summed-area table); among equal
/// ones, the nearest to the centre.
fn densest_window(grid: &Grid, (iw, ih): (u32, u32), (w, h): (u32, u32)) -> (u32, u32) {
    let (gw, gh) = grid.cells;
    let span = |size: u32, len: u32, cells: usize| ((u64::from(size) * cells as u64 + u64::from(len) / 2) / u64::from(len.max(1))) as usize;
    let (ww, wh) = (span(w, iw, gw).clamp(1, gw), span(h, ih, gh).clamp(1, gh));
    let mut table = vec![0f64; (gw + 1) * (gh + 1)];
    for y in 0..gh {
        for x in 0..gw {
            let above = table[y * (gw + 1) + x + 1] + table[(y + 1) * (gw + 1) + x] - table[y * (gw + 1) + x];
            table[(y + 1) * (gw + 1) + x + 1] = grid.scores[y * gw + x] + above;
        }
    }
    let sum = |x: usize, y: usize| {
        let at = |x: usize, y: usize| table[y * (gw + 1) + x];
        at(x + ww, y + wh) - at(x, y + wh) - at(x + ww, y) + at(x, y)
    };
    let centre = ((gw - ww) as f64 / 2.0, (gh - wh) as f64 / 2.0);
    let off_centre = |x: usize, y: usize| (x as f64 - centre.0).powi(2) + (y as f64 - centre.1).powi(2);
    let mut best = (0, 0, f64::NEG_INFINITY);
    for y in 0..=gh - wh {
        for x in 0..=gw - ww {
            let s = sum(x, y);
            let tie = (s - best.2).abs() <= 1e-9 * s.abs().max(1.0);
            if (s > best.2 && !tie) || (tie && off_centre(x, y) < off_centre(best.0, best.1)) {
                best = (x, y, s);
            }
        }
    }
    let (px, py) = (pixel_of(best.0, gw, iw) as i64, pixel_of(best.1, gh, ih) as i64);
    (clip(px, w, iw), clip(py, h, ih))
}

#[cfg(test)]
#[path = "smart_crop_tests.rs"]
mod tests;
