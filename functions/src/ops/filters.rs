//! Blurs — `blur`, `box_blur`, `sharpen` (an unsharp mask) — in place on the raster's own
//! layout (`pixelate`, block means, is `super::pixelate`).
//!
//! They are separable: one pass along each row, then one down vertical strips of columns, each
//! through a float line buffer of at most a few MiB, so they hold no second image. Large
//! Gaussians use three box passes (linear time whatever the sigma); small ones use exact taps.

use super::color::checked;
use super::grayscale::luma;
use super::{ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::Raster;
use crate::spec::{Describe, Lit, Param};
use serde::{Deserialize, Serialize};

/// Floats a vertical strip may hold (1 MiB): strips are as wide as this allows.
const STRIP_FLOATS: usize = 1 << 18;

/// A separable smoothing filter along one line.
#[derive(Debug, Clone, PartialEq)]
enum Kernel {
    /// Weights of taps −r..=r, summing to 1.
    Taps(Vec<f32>),
    /// Radii of box passes run one after another (three approximate a Gaussian within ~3%).
    Boxes(Vec<usize>),
}

impl Kernel {
    fn gaussian(sigma: f64) -> Kernel {
        if sigma <= 2.0 {
            let r = (3.0 * sigma).ceil() as i32;
            let w: Vec<f64> = (-r..=r).map(|i| (-f64::from(i * i) / (2.0 * sigma * sigma)).exp()).collect();
            let sum: f64 = w.iter().sum();
            return Kernel::Taps(w.iter().map(|v| (v / sum) as f32).collect());
        }
        // Box widths whose three passes have the Gaussian's variance (Kovesi; ivank's fast blur):
        // linear time whatever the sigma.
        let ideal = (12.0 * sigma * sigma / 3.0 + 1.0).sqrt();
        let mut lo = ideal.floor() as i64;
        if lo % 2 == 0 {
            lo -= 1;
        }
        let m = ((12.0 * sigma * sigma - (3 * lo * lo + 12 * lo + 9) as f64) / (-4.0 * lo as f64 - 4.0)).round() as i64;
        Kernel::Boxes((0..3).map(|i| if i < m { lo } else { lo + 2 }).map(|w| (w.max(1) as usize - 1) / 2).collect())
    }

    fn reach(&self) -> usize {
        match self {
            Kernel::Taps(w) => w.len() / 2,
            Kernel::Boxes(r) => r.iter().max().copied().unwrap_or(0),
        }
    }

    /// Filters a line of `line.len() / lanes` positions, each `lanes` independent floats (the
    /// channels of a pixel along a row, or a strip of columns down the image), edges repeated.
    /// Every step works on whole positions, so the inner loops run over `lanes` and vectorise.
    fn run(&self, line: &mut [f32], lanes: usize, pad: &mut Vec<f32>) {
        let n = line.len() / lanes.max(1);
        if n == 0 {
            return;
        }
        let passes: Vec<usize> = match self {
            Kernel::Taps(w) => vec![w.len() / 2],
            Kernel::Boxes(r) => r.clone(),
        };
        for r in passes {
            match self {
                Kernel::Taps(w) => {
                    // At most 6 positions each side (sigma <= 2): a padded copy is cheap.
                    let (first, last) = (&line[..lanes], &line[(n - 1) * lanes..]);
                    pad.clear();
                    // Exactly: grown piece by piece, the buffer would double past what is planned.
                    pad.reserve_exact((n + 2 * r) * lanes);
                    (0..r).for_each(|_| pad.extend_from_slice(first));
                    pad.extend_from_slice(line);
                    (0..r).for_each(|_| pad.extend_from_slice(last));
                    line.fill(0.0);
                    for (k, &wk) in w.iter().enumerate() {
                        for (o, &s) in line.iter_mut().zip(&pad[k * lanes..]) {
                            *o += wk * s;
                        }
                    }
                }
                Kernel::Boxes(_) => box_pass(line, lanes, n, r, pad),
            }
        }
    }
}

/// One box pass of radius `r` over `n` positions of `lanes` floats, in place: a running sum per
/// lane, adding the entering position and dropping the leaving one, with indices clamped to the
/// line (edges repeated). The repeated edge positions are counted, never walked, so a pass costs
/// the line whatever the radius: a one-pixel-wide image's rows are one position long, and
/// walking the 2r repeated edges made a radius-250 box 501 times the work of its pixels.
fn box_pass(line: &mut [f32], lanes: usize, n: usize, r: usize, copy: &mut Vec<f32>) {
    copy.clear();
    // Exactly: grown piece by piece, the buffer would double past what is planned.
    copy.reserve_exact(line.len());
    copy.extend_from_slice(line);
    let at = |i: usize| &copy[i.min(n - 1) * lanes..][..lanes];
    let inv = 1.0 / (2 * r + 1) as f32;
    // The window of position 0: r + 1 copies of it (positions −r..=0), then 1..=r, past the end
    // repeating the last.
    let inside = r.min(n - 1);
    let mut acc: Vec<f32> = at(0).iter().map(|&v| v * (r + 1) as f32).collect();
    for i in 1..=inside {
        acc.iter_mut().zip(at(i)).for_each(|(a, &v)| *a += v);
    }
    acc.iter_mut().zip(at(n - 1)).for_each(|(a, &v)| *a += v * (r - inside) as f32);
    for (p, out) in line.chunks_exact_mut(lanes).enumerate() {
        out.iter_mut().zip(&acc).for_each(|(o, &a)| *o = a * inv);
        let (enter, leave) = (at(p + r + 1), at(p.saturating_sub(r)));
        acc.iter_mut().zip(enter).zip(leave).for_each(|((a, &e), &l)| *a += e - l);
    }
}

/// Smooths every channel of a `w × h × ch` interleaved buffer in place: each row, then vertical
/// strips of columns, each through a float line buffer (no second image).
fn smooth(px: &mut [u8], w: usize, h: usize, ch: usize, k: &Kernel) {
    let row = w * ch;
    let (mut line, mut pad) = (Vec::new(), Vec::new());
    let store = |dst: &mut [u8], src: &[f32]| dst.iter_mut().zip(src).for_each(|(d, &s)| *d = (s + 0.5).clamp(0.0, 255.0) as u8);
    for r in px.chunks_exact_mut(row) {
        line.clear();
        line.extend(r.iter().map(|&v| f32::from(v)));
        k.run(&mut line, ch, &mut pad);
        store(r, &line);
    }
    let strip = (STRIP_FLOATS / (h + 2 * k.reach()) / ch).max(1) * ch;
    for s0 in (0..row).step_by(strip) {
        let s1 = (s0 + strip).min(row);
        line.clear();
        line.reserve_exact(h * (s1 - s0));
        for r in px.chunks_exact(row) {
            line.extend(r[s0..s1].iter().map(|&v| f32::from(v)));
        }
        k.run(&mut line, s1 - s0, &mut pad);
        for (r, l) in px.chunks_exact_mut(row).zip(line.chunks_exact(s1 - s0)) {
            store(&mut r[s0..s1], l);
        }
    }
}

/// Blurs a raster in place, premultiplying by alpha so transparent pixels do not bleed colour.
fn blur_raster(mut src: Raster, k: &Kernel) -> Result<Raster, ImageError> {
    let (w, h, ch) = checked(&src)?;
    let alpha = src.layout.has_alpha();
    if alpha {
        for p in src.pixels.chunks_exact_mut(ch) {
            let (c, a) = p.split_at_mut(ch - 1);
            c.iter_mut().for_each(|v| *v = ((u32::from(*v) * u32::from(a[0]) + 127) / 255) as u8);
        }
    }
    smooth(&mut src.pixels, w, h, ch, k);
    if alpha {
        for p in src.pixels.chunks_exact_mut(ch) {
            let (c, a) = p.split_at_mut(ch - 1);
            let a = u32::from(a[0]);
            c.iter_mut().for_each(|v| *v = ((u32::from(*v) * 255 + a / 2).checked_div(a).unwrap_or(0)).min(255) as u8);
        }
    }
    Ok(src)
}

/// Line buffers of a blur on an `input`-shaped raster, in f32: the line (a row, or a strip of
/// columns as wide as [`STRIP_FLOATS`] allows but at least one pixel), its padded copy and a box
/// pass's running sums. Rows and columns are as long as the input's sides, which only the pixel
/// count bounds: a 1x200000 image's one column is 200000 pixels.
fn blur_bytes(input: Shape, reach: usize) -> u64 {
    let (reach, ch) = (reach as u64, u64::from(input.channels));
    let row = (u64::from(input.width) + 2 * reach) * ch;
    let column = (u64::from(input.height) + 2 * reach) * ch;
    3 * (STRIP_FLOATS as u64).max(row).max(column) * 4
}

/// `blur`: Gaussian blur.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Blur {
    pub sigma: f64,
}

const SIGMA: Param<f64> = Param::number("sigma", 0.3, 100.0).default(2.0).examples(&[Lit::Num(3.0)]);

impl Operation for Blur {
    const DESCRIPTION: &'static str = "Gaussian blur with standard deviation `sigma` in pixels (sharp's blur(sigma)); alpha-aware.";
    const PARAMS: &'static [&'static dyn Describe] = &[&SIGMA];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(Blur { sigma: f.get(&SIGMA)? })
    }
    fn extra_bytes(&self, input: Shape, _output: Shape) -> u64 {
        blur_bytes(input, Kernel::gaussian(self.sigma).reach())
    }
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        blur_raster(src, &Kernel::gaussian(self.sigma))
    }
}

/// `box_blur`: mean over a (2r+1)² square.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoxBlur {
    pub radius: u32,
}

const BOX_RADIUS: Param<u32> = Param::uint("radius", 1, 250).default(1).examples(&[Lit::Int(4)]);

impl Operation for BoxBlur {
    const DESCRIPTION: &'static str =
        "Box blur: each pixel becomes the mean of the (2 radius + 1)-pixel square around it (radius 1 is photon's 3x3 box_blur).";
    const PARAMS: &'static [&'static dyn Describe] = &[&BOX_RADIUS];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(BoxBlur { radius: f.get(&BOX_RADIUS)? })
    }
    fn extra_bytes(&self, input: Shape, _output: Shape) -> u64 {
        blur_bytes(input, self.radius as usize)
    }
    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        blur_raster(src, &Kernel::Boxes(vec![self.radius as usize]))
    }
}

/// `sharpen`: unsharp mask on luminance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sharpen {
    pub sigma: f64,
    pub amount: f64,
    pub threshold: u8,
}

const SHARPEN_SIGMA: Param<f64> =
    Param::number("sigma", 0.3, 10.0).default(1.0).examples(&[Lit::Num(1.5)]).describe("radius of the detail sharpened, pixels");
const SHARPEN_AMOUNT: Param<f64> =
    Param::number("amount", 0.0, 10.0).default(1.0).examples(&[Lit::Num(1.5)]).describe("strength; 1 doubles local contrast");
const SHARPEN_THRESHOLD: Param<u8> =
    Param::byte("threshold", 0, 255).default(0).examples(&[Lit::Int(3)]).describe("smaller differences (noise) are left alone");

impl Operation for Sharpen {
    const DESCRIPTION: &'static str = "Unsharp mask on luminance (no colour fringes): adds `amount` x (luma - luma blurred by `sigma`) where that difference exceeds `threshold`.";
    const PARAMS: &'static [&'static dyn Describe] = &[&SHARPEN_SIGMA, &SHARPEN_AMOUNT, &SHARPEN_THRESHOLD];
    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let (sigma, amount) = (f.get(&SHARPEN_SIGMA)?, f.get(&SHARPEN_AMOUNT)?);
        Ok(Sharpen { sigma, amount, threshold: f.get(&SHARPEN_THRESHOLD)? })
    }
    fn extra_bytes(&self, input: Shape, _output: Shape) -> u64 {
        // A blurred luma plane: width × height bytes, blurred as a one-channel image.
        let plane = Shape { channels: 1, ..input };
        plane.bytes() + blur_bytes(plane, Kernel::gaussian(self.sigma).reach())
    }
    fn apply(&self, mut src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        let (w, h, ch) = checked(&src)?;
        let l = |p: &[u8]| if ch >= 3 { luma(p[0], p[1], p[2]) } else { p[0] };
        let mut plane: Vec<u8> = src.pixels.chunks_exact(ch).map(l).collect();
        smooth(&mut plane, w, h, 1, &Kernel::gaussian(self.sigma));
        let colour = ch - usize::from(src.layout.has_alpha());
        let gain = (self.amount * 256.0).round() as i32;
        for (p, &b) in src.pixels.chunks_exact_mut(ch).zip(&plane) {
            let d = i32::from(l(p)) - i32::from(b);
            if d.abs() <= i32::from(self.threshold) {
                continue;
            }
            // The same step on every channel moves the luma by exactly that step.
            let delta = (d * gain + 128) >> 8;
            p[..colour].iter_mut().for_each(|v| *v = (i32::from(*v) + delta).clamp(0, 255) as u8);
        }
        Ok(src)
    }
}

#[cfg(test)]
#[path = "filters_tests.rs"]
mod tests;
