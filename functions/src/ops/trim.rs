//! `trim`: cuts away a uniform border — the rows and columns, from each edge inwards, whose
//! every pixel is within `threshold` of the border colour (the top-left pixel, as sharp and
//! libvips take it) — and reports the box it kept ([`Region`]).
//!
//! The output size depends on the pixels, so the planner counts the input size as an upper
//! bound; the cut is made in place (no second image).

use super::region::{cut, Region};
use super::{canvas::check, ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::spec::{Describe, Lit, Param};
use serde::{Deserialize, Serialize};

/// `trim` with its tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trim {
    /// Largest difference of any channel (alpha included) from the border colour that still
    /// counts as border.
    pub threshold: u8,
}

const THRESHOLD: Param<u8> = Param::byte("threshold", 0, 255)
    .default(10)
    .examples(&[Lit::Int(10)])
    .describe("largest difference of any channel from the border colour (the top-left pixel) still counted as border");

impl Operation for Trim {
    const DESCRIPTION: &'static str = "Cut away a uniform border: the edge rows and columns whose pixels all lie within `threshold` of the top-left pixel's colour. The box kept is reported as `box` in `step.succeeded` and the task's outputs; an image that is all border is kept whole.";
    const PARAMS: &'static [&'static dyn Describe] = &[&THRESHOLD];

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Trim { threshold: f.get(&THRESHOLD)? })
    }

    fn extra_bytes(&self, _input: Shape, _output: Shape) -> u64 {
        // The kept rows move down inside the input buffer.
        0
    }

    fn apply(&self, src: Raster, ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        self.apply_boxed(src, ctx).map(|(r, _)| r)
    }

    fn apply_boxed(&self, src: Raster, _ctx: &ApplyCtx) -> Result<(Raster, Option<Region>), ImageError> {
        let region = content_box(&src, self.threshold)?;
        Ok((cut(src, region)?, Some(region)))
    }
}

/// The smallest box holding every pixel that differs from the top-left one by more than
/// `threshold` in some channel; the whole image when none does.
pub fn content_box(src: &Raster, threshold: u8) -> Result<Region, ImageError> {
    check(src)?;
    let ch = src.layout.channels();
    let (w, h) = (src.width as usize, src.height as usize);
    let border: Vec<u8> = src.pixels[..ch].to_vec();
    let differs = |px: &[u8]| px.iter().zip(&border).any(|(a, b)| a.abs_diff(*b) > threshold);
    let row = |y: usize| &src.pixels[y * w * ch..(y + 1) * w * ch];
    let row_has = |y: usize| row(y).chunks_exact(ch).any(differs);
    let Some(top) = (0..h).find(|&y| row_has(y)) else {
        return Ok(Region::whole(src.width, src.height));
    };
    // A row below `top` has content, so `bottom` exists; `top` is the fallback all the same.
    let bottom = (top..h).rev().find(|&y| row_has(y)).unwrap_or(top);
    // Columns: the leftmost and rightmost differing pixel over the kept rows.
    let (mut left, mut right) = (w, 0);
    for y in top..=bottom {
        let pixels = row(y);
        let first = pixels.chunks_exact(ch).take(left).position(differs);
        if let Some(x) = first {
            left = x;
        }
        if let Some(x) = pixels.chunks_exact(ch).rposition(differs) {
            right = right.max(x);
        }
    }
    let right = right.max(left);
    // Every index is below the image's u32 width or height.
    let u = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    Ok(Region { x: u(left), y: u(top), width: u(right - left + 1), height: u(bottom - top + 1) })
}

#[cfg(test)]
#[path = "trim_tests.rs"]
mod tests;
