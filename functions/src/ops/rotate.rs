//! `rotate`: quarter turns exactly (pixel moves, via `orient`), any other angle by bilinear
//! sampling onto a canvas enlarged to hold the whole turned image, filled with `background`.

use super::canvas::{check, colour_in, layout_for_background};
use super::{orient, ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::{byte_len, Raster};
use crate::registry::MAX_DIMENSION;
use crate::shrink::Shrink;
use crate::spec::{Describe, Lit, Param};
use serde::{Deserialize, Serialize};

/// `rotate`: clockwise by `angle` degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RotateParams {
    pub angle: f64,
    pub background: [u8; 4],
}

/// What an angle amounts to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Turn {
    /// A multiple of 90°: 0, 1, 2 or 3 quarter turns clockwise.
    Quarter(u8),
    /// Anything else, in radians, normalised to [0, 2π).
    Free(f64),
}

impl RotateParams {
    fn turn(&self) -> Turn {
        let deg = self.angle.rem_euclid(360.0);
        let quarters = (deg / 90.0).round();
        // Angles within a billionth of a degree of a quarter turn are that quarter turn, so that
        // e.g. 90.0000000001 from a client's float arithmetic still rotates losslessly.
        if (deg - quarters * 90.0).abs() < 1e-9 {
            Turn::Quarter((quarters as u8) % 4)
        } else {
            Turn::Free(deg.to_radians())
        }
    }
}

/// Size of the canvas that holds a `w × h` image turned by `theta`.
fn free_dims(w: u32, h: u32, theta: f64) -> (f64, f64) {
    let (s, c) = (theta.sin().abs(), theta.cos().abs());
    let (w, h) = (f64::from(w), f64::from(h));
    // The epsilon keeps float noise (141.4213562373095 vs …096) from adding a whole pixel.
    let side = |v: f64| (v - 1e-6).ceil().max(1.0);
    (side(w * c + h * s), side(w * s + h * c))
}

const ANGLE: Param<f64> =
    Param::number("angle", -360.0, 360.0).required().examples(&[Lit::Int(90), Lit::Int(45)]).describe("degrees, clockwise");
const BACKGROUND: Param<[u8; 4]> = Param::colour("background").default([0, 0, 0, 0]).describe("fills the corners of a non-quarter turn");

impl Operation for RotateParams {
    const DESCRIPTION: &'static str = "Turn clockwise by `angle` degrees (negative: counter-clockwise). Multiples of 90 are exact; other angles use bilinear sampling on a canvas enlarged to fit, filled with `background` (default transparent, which adds alpha).";
    const PARAMS: &'static [&'static dyn Describe] = &[&ANGLE, &BACKGROUND];

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        Ok(RotateParams { angle: f.get(&ANGLE)?, background: f.get(&BACKGROUND)? })
    }

    fn output_dims(&self, width: u32, height: u32) -> Result<(u32, u32), ImageError> {
        match self.turn() {
            Turn::Quarter(1 | 3) => Ok((height, width)),
            Turn::Quarter(_) => Ok((width, height)),
            Turn::Free(theta) => {
                let (w, h) = free_dims(width, height, theta);
                if w > f64::from(MAX_DIMENSION) || h > f64::from(MAX_DIMENSION) {
                    return Err(ImageError::Params(format!(
                        "rotate: turning {width}x{height} by {} degrees needs a {w}x{h} canvas; the largest side allowed is {MAX_DIMENSION}",
                        self.angle
                    )));
                }
                Ok((w as u32, h as u32))
            }
        }
    }

    fn output_channels(&self, channels: u8) -> u8 {
        match self.turn() {
            Turn::Free(_) if self.background[3] < 255 && channels % 2 == 1 => channels + 1,
            _ => channels,
        }
    }

    fn extra_bytes(&self, _input: Shape, output: Shape) -> u64 {
        match self.turn() {
            // Half turns and no turn work in place; the others write a new buffer.
            Turn::Quarter(0 | 2) => 0,
            _ => output.bytes(),
        }
    }

    fn shrink(&self) -> Shrink {
        match self.turn() {
            // Quarter turns only move pixels; any other angle resamples them.
            Turn::Quarter(q) => Shrink::Move { swaps: q % 2 == 1 },
            Turn::Free(_) => Shrink::Barrier,
        }
    }

    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        check(&src)?;
        Ok(match self.turn() {
            Turn::Quarter(1) => orient::rotate90(src),
            Turn::Quarter(2) => orient::rotate180(src),
            Turn::Quarter(3) => orient::rotate270(src),
            Turn::Quarter(_) => src,
            Turn::Free(theta) => {
                let (w, h) = self.output_dims(src.width, src.height)?;
                rotate_free(&src, theta, w, h, self.background)?
            }
        })
    }
}

/// Bilinear rotation of `src` by `theta` (clockwise) onto a `w × h` canvas of `bg`.
///
/// Samples are mixed premultiplied by alpha, so transparent background never darkens the edges.
fn rotate_free(src: &Raster, theta: f64, w: u32, h: u32, bg: [u8; 4]) -> Result<Raster, ImageError> {
    let layout = layout_for_background(src.layout, bg);
    let len = byte_len(w, h, layout).ok_or_else(|| ImageError::TooLarge(format!("{w}x{h} does not fit in memory")))?;
    let (sc, dc) = (src.layout.channels(), layout.channels());
    let colours = if src.layout.has_alpha() { sc - 1 } else { sc };
    let bg_px = colour_in(layout, bg);
    let bg_alpha = f32::from(bg[3]);
    let (sw, sh) = (src.width as i64, src.height as i64);
    let row = src.width as usize * sc;
    let (s, c) = (theta.sin(), theta.cos());
    let (icx, icy) = (sw as f64 / 2.0, sh as f64 / 2.0);
    let (ocx, ocy) = (f64::from(w) / 2.0, f64::from(h) / 2.0);
    // Filled up front and written pixel by pixel: cheaper than growing it a byte at a time.
    let mut out = vec![0u8; len];
    let row_len = w as usize * dc;
    for (y, out_row) in out.chunks_exact_mut(row_len.max(1)).enumerate() {
        let dy = y as f64 + 0.5 - ocy;
        // Inverse of the clockwise turn (y axis pointing down), in source pixel-centre coords;
        // stepping one output pixel right moves the sample by (c, -s).
        let dx0 = 0.5 - ocx;
        let (mut sx, mut sy) = (dx0 * c + dy * s + icx - 0.5, -dx0 * s + dy * c + icy - 0.5);
        for px in out_row.chunks_exact_mut(dc) {
            let (x0f, y0f) = (sx.floor(), sy.floor());
            let (fx, fy) = ((sx - x0f) as f32, (sy - y0f) as f32);
            let (x0, y0) = (x0f as i64, y0f as i64);
            sx += c;
            sy -= s;
            // Most of the canvas is either wholly outside the source (the corners) or wholly
            // inside an opaque one: both take a short path; only the edges mix the two.
            if x0 < -1 || y0 < -1 || x0 >= sw || y0 >= sh {
                px.copy_from_slice(&bg_px);
                continue;
            }
            let weights = [(1.0 - fx) * (1.0 - fy), fx * (1.0 - fy), (1.0 - fx) * fy, fx * fy];
            if !src.layout.has_alpha() && x0 >= 0 && y0 >= 0 && x0 + 1 < sw && y0 + 1 < sh {
                let i = ((y0 * sw + x0) as usize) * sc;
                if let (Some(top), Some(bottom)) = (src.pixels.get(i..i + 2 * sc), src.pixels.get(i + row..i + row + 2 * sc)) {
                    let ((t0, t1), (b0, b1)) = (top.split_at(sc), bottom.split_at(sc));
                    let [w00, w10, w01, w11] = weights;
                    for ((((o, &p00), &p10), &p01), &p11) in px.iter_mut().zip(t0).zip(t1).zip(b0).zip(b1) {
                        let v = f32::from(p00) * w00 + f32::from(p10) * w10 + f32::from(p01) * w01 + f32::from(p11) * w11;
                        *o = (v + 0.5).clamp(0.0, 255.0) as u8;
                    }
                    if let Some(a) = px.get_mut(sc) {
                        *a = 255;
                    }
                    continue;
                }
            }
            let mut acc = [0f32; 3];
            let mut acc_a = 0f32;
            for ((nx, ny), wgt) in [(x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1)].into_iter().zip(weights) {
                if wgt <= 0.0 {
                    continue;
                }
                let inside = (0..sw).contains(&nx) && (0..sh).contains(&ny);
                let p = if inside { src.pixels.get(((ny * sw + nx) as usize) * sc..).and_then(|p| p.get(..sc)) } else { None };
                let (colour, alpha) = match p {
                    Some(p) => (p, if src.layout.has_alpha() { p.get(colours).map_or(255.0, |&a| f32::from(a)) } else { 255.0 }),
                    None => (bg_px.as_slice(), bg_alpha),
                };
                let a = alpha * wgt;
                for (acc_c, &v) in acc.iter_mut().zip(colour.iter().take(colours)) {
                    *acc_c += f32::from(v) * a;
                }
                acc_a += a;
            }
            for (o, &acc_c) in px.iter_mut().zip(acc.iter().take(colours)) {
                let v = if acc_a > 0.0 { acc_c / acc_a } else { 0.0 };
                *o = (v + 0.5).clamp(0.0, 255.0) as u8;
            }
            if let Some(a) = px.get_mut(colours).filter(|_| dc > colours) {
                *a = (acc_a + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
    }
    Raster::new(w, h, layout, out)
}

#[cfg(test)]
#[path = "rotate_tests.rs"]
mod tests;
