//! Neighbourhood effects — `edge_detect`, `emboss`, `noise_reduction` (median), `oil`,
//! `vignette` — in place on the raster's own layout.
//!
//! Those that read neighbours keep only the few original rows they still need in a ring
//! ([`in_place_rows`]), never a second image. `edge_detect` and `emboss` use photon's 3×3 kernels
//! (same normalisation), but vectorised and with edges repeated instead of left black. `oil` is
//! photon's oil-painting algorithm with a sliding histogram: photon builds a HashMap per pixel
//! (several times slower: docs/BENCHMARKS.md, "Why these kernels") and panics on images one
//! pixel wide.

use super::color::checked;
use super::{ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::spec::{Describe, Lit, Param};
use serde::{Deserialize, Serialize};

/// Bytes of `rows` row buffers of an `input`-shaped raster. Rows are as long as the input is
/// wide, which only its pixel count bounds (an input may be 200000x1).
pub(crate) fn row_bytes(rows: u64, input: Shape) -> u64 {
    rows * input.row_bytes()
}

/// Calls `f(rows, out)` for every row, top to bottom, where `rows` are the 2r+1 original rows
/// around it (edges repeated) and `out` is the row itself to overwrite. Holds r+1 row copies.
pub(crate) fn in_place_rows(px: &mut [u8], row: usize, h: usize, r: usize, mut f: impl FnMut(&[&[u8]], &mut [u8])) {
    if row == 0 || h == 0 || px.len() != row * h {
        return;
    }
    let mut ring = vec![vec![0u8; row]; r + 1];
    for y in 0..h {
        let (head, tail) = px.split_at_mut((y + 1) * row);
        let out = &mut head[y * row..];
        ring[y % (r + 1)].copy_from_slice(out);
        let rows: Vec<&[u8]> = (0..=2 * r)
            .map(|k| {
                let yy = (y + k).saturating_sub(r).min(h - 1);
                if yy <= y {
                    &ring[yy % (r + 1)][..]
                } else {
                    &tail[(yy - y - 1) * row..(yy - y) * row]
                }
            })
            .collect();
        f(&rows, out);
    }
}

/// `dst` = `src` (whole pixels of `ch` samples) with its first and last pixel repeated `r` times.
fn pad_row<T: Copy>(dst: &mut Vec<T>, src: &[T], ch: usize, r: usize) {
    let (first, last) = (&src[..ch], &src[src.len() - ch..]);
    dst.clear();
    // Exactly: grown piece by piece, the buffer would double past what is planned.
    dst.reserve_exact(src.len() + 2 * r * ch);
    (0..r).for_each(|_| dst.extend_from_slice(first));
    dst.extend_from_slice(src);
    (0..r).for_each(|_| dst.extend_from_slice(last));
}

/// 3×3 convolution of the colour channels, normalised by the kernel's sum as photon (and the
/// `image` crate's `filter3x3`) do.
fn convolve3(mut src: Raster, k: [f32; 9]) -> Result<Raster, ImageError> {
    let (w, h, ch) = checked(&src)?;
    let colour = ch - usize::from(src.layout.has_alpha());
    let sum: f32 = k.iter().sum();
    let norm = if sum == 0.0 { 1.0 } else { sum };
    let (mut floats, mut padded, mut acc) = (Vec::new(), vec![Vec::new(); 3], vec![0f32; w * ch]);
    in_place_rows(&mut src.pixels, w * ch, h, 1, |rows, out| {
        for (p, r) in padded.iter_mut().zip(rows) {
            floats.clear();
            floats.extend(r.iter().map(|&v| f32::from(v)));
            pad_row(p, &floats, ch, 1);
        }
        acc.fill(0.0);
        for (i, &kv) in k.iter().enumerate() {
            // Tap (i / 3, i % 3) is row i / 3 shifted by i % 3 pixels: one contiguous multiply-add.
            for (a, &s) in acc.iter_mut().zip(&padded[i / 3][i % 3 * ch..]) {
                *a += kv / norm * s;
            }
        }
        for (o, a) in out.chunks_exact_mut(ch).zip(acc.chunks_exact(ch)) {
            o[..colour].iter_mut().zip(a).for_each(|(o, &a)| *o = (a + 0.5).clamp(0.0, 255.0) as u8);
        }
    });
    Ok(src)
}

macro_rules! kernel_step {
    ($ty:ident, $desc:literal, $kernel:expr) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $ty {}

        impl Operation for $ty {
            const DESCRIPTION: &'static str = $desc;
            const PARAMS: &'static [&'static dyn Describe] = &[];
            fn parse(_f: &mut Fields) -> Result<Self, FieldError> {
                Ok($ty {})
            }
            fn extra_bytes(&self, input: Shape, _output: Shape) -> u64 {
                // The ring's two rows; in f32 (4 bytes a sample): a row's copy, three padded rows
                // and the sums.
                row_bytes(2, input) + row_bytes(4 * 5, input) + 3 * 2 * u64::from(input.channels) * 4
            }
            fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
                convolve3(src, $kernel)
            }
        }
    };
}

kernel_step!(
    EdgeDetect,
    "Edge detection (photon's 3x3 Laplacian kernel): dark image, bright edges; alpha is kept.",
    [-1.0, -1.0, -1.0, -1.0, 8.0, -1.0, -1.0, -1.0, -1.0]
);
kernel_step!(
    Emboss,
    "Emboss (photon's 3x3 emboss kernel): relief lit from the bottom right; alpha is kept.",
    [-2.0, -1.0, 0.0, -1.0, 1.0, 1.0, 0.0, 1.0, 2.0]
);

/// `noise_reduction`: median filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoiseReduction {
    pub radius: u32,
}

const MEDIAN_RADIUS: Param<u32> = Param::uint("radius", 1, 2).default(1).examples(&[Lit::Int(1)]).describe("1: 3x3, 2: 5x5");

impl Operation for NoiseReduction {
    const DESCRIPTION: &'static str = "Median filter: each channel becomes the median of the (2 radius + 1)-pixel square; removes speckle and salt-and-pepper noise, keeps edges.";
    const PARAMS: &'static [&'static dyn Describe] = &[&MEDIAN_RADIUS];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(NoiseReduction { radius: f.get(&MEDIAN_RADIUS)? })
    }
    fn extra_bytes(&self, input: Shape, _output: Shape) -> u64 {
        // The ring's r + 1 rows, 2r + 1 padded rows, the medians and the counts.
        let r = u64::from(self.radius);
        row_bytes(3 * r + 4, input) + (2 * r + 1) * 2 * r * u64::from(input.channels)
    }
    fn apply(&self, mut src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        let (w, h, ch) = checked(&src)?;
        let colour = ch - usize::from(src.layout.has_alpha());
        let r = self.radius as usize;
        let rank = ((2 * r + 1) * (2 * r + 1) / 2) as u8;
        let (mut padded, mut ans, mut count) = (vec![Vec::new(); 2 * r + 1], vec![0u8; w * ch], vec![0u8; w * ch]);
        in_place_rows(&mut src.pixels, w * ch, h, r, |rows, out| {
            padded.iter_mut().zip(rows).for_each(|(p, row)| pad_row(p, row, ch, r));
            // Bitwise selection: the median is the largest m with fewer than rank + 1 window values
            // below it; fixing one bit at a time needs only branch-free compares, which vectorise.
            ans.fill(0);
            for bit in (0..8).rev().map(|b| 1u8 << b) {
                count.fill(0);
                for p in &padded {
                    for dx in 0..=2 * r {
                        for ((c, &a), &v) in count.iter_mut().zip(&ans).zip(&p[dx * ch..]) {
                            *c += u8::from(v < (a | bit));
                        }
                    }
                }
                ans.iter_mut().zip(&count).for_each(|(a, &c)| *a |= if c <= rank { bit } else { 0 });
            }
            for (o, a) in out.chunks_exact_mut(ch).zip(ans.chunks_exact(ch)) {
                o[..colour].copy_from_slice(&a[..colour]);
            }
        });
        Ok(src)
    }
}

/// `oil`: photon's oil painting — each pixel takes the mean colour of the most common intensity
/// level in its neighbourhood.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Oil {
    pub radius: u32,
    pub intensity: f64,
}

const OIL_RADIUS: Param<u32> = Param::uint("radius", 1, 10).default(4).examples(&[Lit::Int(4)]).describe("brush radius, pixels");
const OIL_INTENSITY: Param<f64> = Param::number("intensity", 1.0, 255.0)
    .default(55.0)
    .examples(&[Lit::Num(55.0)])
    .describe("number of brightness levels; fewer gives broader strokes");

impl Operation for Oil {
    const DESCRIPTION: &'static str = "Oil painting (photon's algorithm): each pixel takes the average colour of the most common of `intensity` brightness levels within `radius`.";
    const PARAMS: &'static [&'static dyn Describe] = &[&OIL_RADIUS, &OIL_INTENSITY];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Oil { radius: f.get(&OIL_RADIUS)?, intensity: f.get(&OIL_INTENSITY)? })
    }
    fn extra_bytes(&self, input: Shape, _output: Shape) -> u64 {
        row_bytes(u64::from(self.radius) + 1, input)
    }
    fn apply(&self, mut src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        let (w, h, ch) = checked(&src)?;
        let colour = ch - usize::from(src.layout.has_alpha());
        let r = self.radius as usize;
        // Level of a pixel from the sum of its colour channels (photon: round(mean × intensity / 255)).
        let levels: Vec<usize> = (0..=255 * colour).map(|s| (s as f64 / colour as f64 * self.intensity / 255.0).round() as usize).collect();
        let top = levels.last().copied().unwrap_or(0);
        let (mut count, mut sum) = (vec![0i32; top + 1], vec![[0i32; 3]; top + 1]);
        in_place_rows(&mut src.pixels, w * ch, h, r, |rows, out| {
            count.fill(0);
            sum.fill([0; 3]);
            // The most common level, the lowest on ties; only recomputed when it loses a pixel.
            let mut best: Option<usize> = None;
            let column = |x: usize, sign: i32, count: &mut [i32], sum: &mut [[i32; 3]], best: &mut Option<usize>| {
                for row in rows {
                    let p = &row[x * ch..x * ch + colour];
                    let l = levels[p.iter().map(|&v| usize::from(v)).sum::<usize>()];
                    count[l] += sign;
                    sum[l].iter_mut().zip(p).for_each(|(s, &v)| *s += sign * i32::from(v));
                    *best = match *best {
                        Some(b) if sign > 0 && (count[l], b) > (count[b], l) => Some(l),
                        Some(b) if sign < 0 && b == l => None,
                        other => other,
                    };
                }
            };
            for x in 0..=r.min(w - 1) {
                column(x, 1, &mut count, &mut sum, &mut best);
            }
            for x in 0..w {
                let b = best.unwrap_or_else(|| (0..=top).fold(0, |b, l| if count[l] > count[b] { l } else { b }));
                best = Some(b);
                let n = count[b].max(1);
                out[x * ch..x * ch + colour].iter_mut().zip(&sum[b]).for_each(|(v, &s)| *v = ((s + n / 2) / n) as u8);
                if x >= r {
                    column(x - r, -1, &mut count, &mut sum, &mut best);
                }
                if x + r + 1 < w {
                    column(x + r + 1, 1, &mut count, &mut sum, &mut best);
                }
            }
        });
        Ok(src)
    }
}

/// `vignette`: darkens towards the corners.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Vignette {
    pub strength: f64,
    pub radius: f64,
}

const VIGNETTE_STRENGTH: Param<f64> =
    Param::number("strength", 0.0, 1.0).default(0.5).examples(&[Lit::Num(0.6)]).describe("darkening at the corners; 1 is black");
const VIGNETTE_RADIUS: Param<f64> = Param::number("radius", 0.0, 1.0)
    .default(0.5)
    .examples(&[Lit::Num(0.4)])
    .describe("where darkening starts, as a fraction of the centre-to-corner distance");

impl Operation for Vignette {
    const DESCRIPTION: &'static str =
        "Vignette: darkens smoothly from `radius` (0 centre, 1 corner, relative to the frame) to the corners, by up to `strength`.";
    const PARAMS: &'static [&'static dyn Describe] = &[&VIGNETTE_STRENGTH, &VIGNETTE_RADIUS];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Vignette { strength: f.get(&VIGNETTE_STRENGTH)?, radius: f.get(&VIGNETTE_RADIUS)? })
    }
    fn extra_bytes(&self, _input: Shape, _output: Shape) -> u64 {
        0
    }
    fn apply(&self, mut src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        let (w, _h, ch) = checked(&src)?;
        let colour = ch - usize::from(src.layout.has_alpha());
        let (fw, fh) = (f64::from(src.width), f64::from(src.height));
        let span = (1.0 - self.radius).max(1e-6);
        for (y, row) in src.pixels.chunks_exact_mut(w * ch).enumerate() {
            let dy = (y as f64 + 0.5) / fh * 2.0 - 1.0;
            for (x, p) in row.chunks_exact_mut(ch).enumerate() {
                let dx = (x as f64 + 0.5) / fw * 2.0 - 1.0;
                // Elliptical distance: 0 at the centre, 1 at the corners, whatever the aspect.
                let d = ((dx * dx + dy * dy) / 2.0).sqrt();
                let t = ((d - self.radius) / span).clamp(0.0, 1.0);
                let k = ((1.0 - self.strength * t * t * (3.0 - 2.0 * t)) * 256.0) as u32;
                p[..colour].iter_mut().for_each(|v| *v = ((u32::from(*v) * k + 128) >> 8).min(255) as u8);
            }
        }
        Ok(src)
    }
}

#[cfg(test)]
#[path = "effects_tests.rs"]
mod tests;
