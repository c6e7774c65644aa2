//! `watermark`: another uploaded image composited over the input at a gravity, with opacity and
//! optional scaling; plus the alpha blending that `text` shares.

use super::canvas::{check, Gravity, GRAVITIES};
use super::resize::{resize, Filter, Fit, ResizeParams};
use super::{ApplyCtx, Operation, Shape};
use crate::decode::DecodeOptions;
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::raster::{self, Layout, Raster};
use crate::registry::MAX_DIMENSION;
use crate::spec::{Describe, Lit, Param, Text};
use serde::{Deserialize, Serialize};

/// Largest watermark image (decoded), in pixels. Its size is unknown when a chain is planned, so
/// this cap is what lets the planner count its buffers truthfully ([`WATERMARK_PEAK_BYTES`]).
pub const WATERMARK_MAX_PIXELS: u64 = 1 << 21;

/// Largest watermark image as stored, in bytes: the step holds the encoded file throughout, so
/// its size must be bounded too (a tiny image padded to tens of MB decodes within the pixel cap).
/// 4 bytes a pixel at the pixel cap: even an uncompressed RGBA watermark fits.
pub const WATERMARK_MAX_BYTES: u64 = 4 * WATERMARK_MAX_PIXELS;

/// What decoding and scaling the watermark may allocate: while decoding, the decoder's buffers
/// and its output (twice the output for 16-bit files); while downscaling, the decoded, its
/// premultiplied copy (watermarks have alpha), the resizer's intermediate (the decoded width ×
/// the scaled height) and the scaled — each at most the cap at 4 bytes a pixel.
const WATERMARK_WORK_BYTES: u64 = 4 * 4 * WATERMARK_MAX_PIXELS;

/// Peak bytes a watermark step holds besides the input: the stored file (borrowed from the
/// step's loaded images, never copied) and the work on it.
pub const WATERMARK_PEAK_BYTES: u64 = WATERMARK_MAX_BYTES + WATERMARK_WORK_BYTES;

/// `watermark`: the uploaded image `image` over the input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatermarkParams {
    pub image: String,
    pub gravity: Gravity,
    pub offset_x: u32,
    pub offset_y: u32,
    pub opacity: f64,
    pub scale: Option<f64>,
}

/// Refuses a watermark whose stored file (`stored` bytes) exceeds [`WATERMARK_MAX_BYTES`]: the
/// planner counts at most that for it. The Worker calls this before a task is created.
pub fn check_stored_size(id: &str, stored: u64) -> Result<(), ImageError> {
    if stored > WATERMARK_MAX_BYTES {
        return Err(ImageError::TooLarge(format!(
            "the watermark image {id} is {stored} bytes; a watermark may be at most {WATERMARK_MAX_BYTES} bytes ({} MiB)",
            WATERMARK_MAX_BYTES >> 20
        )));
    }
    Ok(())
}

/// Whether `id` has the shape of an uploaded image's id: `img_` and 32 lowercase hex digits.
pub fn is_image_id(id: &str) -> bool {
    id.strip_prefix("img_").is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

const IMAGE: Param<Text> = Param::image_id("image")
    .required()
    .examples(&[Lit::Str("img_0123456789abcdef0123456789abcdef")])
    .describe("id of one of your uploaded images");
const GRAVITY: Param<Gravity> = Param::choice_of("gravity", &GRAVITIES).default(Gravity::SouthEast).describe("where the watermark sits");
const OFFSET_X: Param<u32> = Param::uint("offset_x", 0, MAX_DIMENSION)
    .default(0)
    .describe("margin from the left/right edge it touches (north, center, south: shift right)");
const OFFSET_Y: Param<u32> = Param::uint("offset_y", 0, MAX_DIMENSION)
    .default(0)
    .describe("margin from the top/bottom edge it touches (west, center, east: shift down)");
const OPACITY: Param<f64> = Param::number("opacity", 0.0, 1.0).default(0.5);
const SCALE: Param<f64> = Param::above("scale", 0.0, 1.0)
    .examples(&[Lit::Num(0.25)])
    .describe("watermark width as a fraction of the image width (aspect kept); omit to use its own size");

impl Operation for WatermarkParams {
    const DESCRIPTION: &'static str = "Composite another uploaded image (at most 2,097,152 pixels and 8 MiB) over this one at a gravity, with opacity and optional scale (watermark width as a fraction of the image width; downscaled with Lanczos3, upscaled bilinearly). The output keeps the input's channels.";
    const PARAMS: &'static [&'static dyn Describe] = &[&IMAGE, &GRAVITY, &OFFSET_X, &OFFSET_Y, &OPACITY, &SCALE];

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let image = f.text(&IMAGE)?.to_string();
        let (gravity, offset_x, offset_y) = (f.get(&GRAVITY)?, f.get(&OFFSET_X)?, f.get(&OFFSET_Y)?);
        Ok(WatermarkParams { image, gravity, offset_x, offset_y, opacity: f.get(&OPACITY)?, scale: f.opt(&SCALE)? })
    }

    fn extra_bytes(&self, _input: Shape, _output: Shape) -> u64 {
        // The input is blended in place; only the watermark's own buffers add up.
        WATERMARK_PEAK_BYTES
    }

    fn aux_images(&self) -> Vec<&str> {
        vec![self.image.as_str()]
    }

    fn apply(&self, mut dst: Raster, ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        check(&dst)?;
        let bytes =
            ctx.aux.get(&self.image).ok_or_else(|| ImageError::Invalid(format!("the watermark image {} is missing", self.image)))?;
        let too_large = |e: ImageError| match e {
            ImageError::TooLarge(m) => ImageError::TooLarge(format!("the watermark image {}: {m}", self.image)),
            other => other,
        };
        // The Worker refuses such a task up front; this holds for a task queued before that.
        check_stored_size(&self.image, u64::try_from(bytes.len()).unwrap_or(u64::MAX))?;
        let cap = ctx.max_pixels.min(WATERMARK_MAX_PIXELS);
        let opts = DecodeOptions { hint: None, max_pixels: cap, max_alloc: WATERMARK_WORK_BYTES, orient: true, keep_profile: false };
        let mark = raster::decode_upload(bytes, &opts).map_err(too_large)?;
        check(&mark)?;
        let (mw, mh) = match self.scale {
            Some(s) => {
                let w = (f64::from(dst.width) * s).round().clamp(1.0, f64::from(MAX_DIMENSION)) as u32;
                let p = ResizeParams {
                    width: Some(w),
                    height: None,
                    fit: Fit::Inside,
                    filter: Filter::Lanczos3,
                    background: [0; 4],
                    gravity: Default::default(),
                };
                p.output_dims(mark.width, mark.height)?
            }
            None => (mark.width, mark.height),
        };
        // Downscaling uses Lanczos3 into a buffer smaller than the decoded mark; upscaling
        // samples bilinearly while blending, so no buffer larger than the cap is ever made.
        let mark = if mw <= mark.width && (mw, mh) != (mark.width, mark.height) {
            let p = ResizeParams {
                width: Some(mw),
                height: Some(mh),
                fit: Fit::Fill,
                filter: Filter::Lanczos3,
                background: [0; 4],
                gravity: Default::default(),
            };
            resize(mark, &p)?
        } else {
            mark
        };
        let (x0, y0) = self.gravity.place((dst.width, dst.height), (mw, mh), (i64::from(self.offset_x), i64::from(self.offset_y)));
        let alpha_scale = self.opacity.clamp(0.0, 1.0) as f32;
        let sx = mark.width as f32 / mw as f32;
        let sy = mark.height as f32 / mh as f32;
        let same_size = (mark.width, mark.height) == (mw, mh);
        // Only the part of the watermark that lands on the image is visited.
        let (dw, dh) = (i64::from(dst.width), i64::from(dst.height));
        let (dc, layout) = (dst.layout.channels(), dst.layout);
        for y in y0.max(0)..(y0 + i64::from(mh)).min(dh) {
            for x in x0.max(0)..(x0 + i64::from(mw)).min(dw) {
                let (u, v) = (x - x0, y - y0);
                let px = if same_size {
                    pixel_rgba(&mark, u, v)
                } else {
                    sample_rgba(&mark, (u as f32 + 0.5) * sx - 0.5, (v as f32 + 0.5) * sy - 0.5)
                };
                let Some(px) = px else { continue };
                let a = (f32::from(px[3]) * alpha_scale).round().clamp(0.0, 255.0) as u8;
                let at = (y * dw + x) as usize * dc;
                if let Some(d) = dst.pixels.get_mut(at..at + dc) {
                    blend(d, layout, [px[0], px[1], px[2]], a);
                }
            }
        }
        Ok(dst)
    }
}

/// Pixel (x, y) of `r` as RGBA; `None` outside.
fn pixel_rgba(r: &Raster, x: i64, y: i64) -> Option<[u8; 4]> {
    if x < 0 || y < 0 || x >= i64::from(r.width) || y >= i64::from(r.height) {
        return None;
    }
    let ch = r.layout.channels();
    let at = (y as usize * r.width as usize + x as usize) * ch;
    let p = r.pixels.get(at..at + ch)?;
    Some(match (r.layout, p) {
        (Layout::Luma8, [l]) => [*l, *l, *l, 255],
        (Layout::LumaA8, [l, a]) => [*l, *l, *l, *a],
        (Layout::Rgb8, [r, g, b]) => [*r, *g, *b, 255],
        (Layout::Rgba8, [r, g, b, a]) => [*r, *g, *b, *a],
        _ => return None,
    })
}

/// Bilinear sample of `r` at pixel-centre coordinates (clamped to the edge), premultiplied mix.
fn sample_rgba(r: &Raster, x: f32, y: f32) -> Option<[u8; 4]> {
    let max_x = (r.width - 1) as f32;
    let max_y = (r.height - 1) as f32;
    let (x, y) = (x.clamp(0.0, max_x), y.clamp(0.0, max_y));
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let (x1, y1) = ((x0 + 1).min(r.width as i64 - 1), (y0 + 1).min(r.height as i64 - 1));
    let mut acc = [0f32; 4];
    for (px, py, w) in [(x0, y0, (1.0 - fx) * (1.0 - fy)), (x1, y0, fx * (1.0 - fy)), (x0, y1, (1.0 - fx) * fy), (x1, y1, fx * fy)] {
        let p = pixel_rgba(r, px, py)?;
        let a = f32::from(p[3]) * w;
        for i in 0..3 {
            acc[i] += f32::from(p[i]) * a;
        }
        acc[3] += a;
    }
    let un = |c: f32| if acc[3] > 0.0 { (c / acc[3]).round().clamp(0.0, 255.0) as u8 } else { 0 };
    Some([un(acc[0]), un(acc[1]), un(acc[2]), acc[3].round().clamp(0.0, 255.0) as u8])
}

/// Blends colour `rgb` with coverage `a` (0–255) over one pixel `d` of `layout` ("over"
/// compositing; gray layouts take the colour's luma). Integer maths, rounded.
pub(crate) fn blend(d: &mut [u8], layout: Layout, rgb: [u8; 3], a: u8) {
    let a = u32::from(a);
    if a == 0 {
        return;
    }
    let luma = super::grayscale::luma(rgb[0], rgb[1], rgb[2]);
    let (colours, src): (usize, [u8; 3]) = match layout {
        Layout::Luma8 | Layout::LumaA8 => (1, [luma, 0, 0]),
        Layout::Rgb8 | Layout::Rgba8 => (3, rgb),
    };
    if layout.has_alpha() {
        let Some(&da) = d.get(colours) else { return };
        let da = u32::from(da);
        // out_a = a + da·(1−a), out_c = (c·a + d·da·(1−a)) / out_a, all scaled by 255.
        let keep = da * (255 - a); // ≤ 255²
        let out_a = a * 255 + keep; // ×255
        for (dc, &s) in d.iter_mut().zip(src.iter()).take(colours) {
            let num = u32::from(s) * a * 255 + u32::from(*dc) * keep;
            *dc = ((num + out_a / 2) / out_a) as u8;
        }
        if let Some(slot) = d.get_mut(colours) {
            *slot = ((out_a + 127) / 255) as u8;
        }
    } else {
        for (dc, &s) in d.iter_mut().zip(src.iter()).take(colours) {
            *dc = ((u32::from(s) * a + u32::from(*dc) * (255 - a) + 127) / 255) as u8;
        }
    }
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;
