//! `resize`: scaling with fast_image_resize (SIMD kernels where the target has them), plus the
//! pure dimension math of the four fit modes.

use super::canvas::{Gravity, GRAVITIES};
use super::{ApplyCtx, Operation, Shape};
use crate::error::ImageError;
use crate::params::{FieldError, Fields};
use crate::planar::Planar;
use crate::raster::{Layout, Raster};
use crate::registry::MAX_DIMENSION;
use crate::shrink::Shrink;
use crate::spec::{Describe, Lit, Param};
use fast_image_resize::{self as fr, images::Image, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    Inside,
    Contain,
    Cover,
    Fill,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    Nearest,
    Bilinear,
    CatmullRom,
    Lanczos3,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResizeParams {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub filter: Filter,
    pub background: [u8; 4],
    /// Where `cover` keeps its window and `contain` places the image. Absent from the
    /// serialised chain when centred, so results stored before it existed keep their keys.
    #[serde(default, skip_serializing_if = "Gravity::is_center")]
    pub gravity: Gravity,
}

/// Bytes of the resizer's coefficient tables per pixel of each side, input and output: a Lanczos3
/// window of up to 6 input pixels per input pixel (downscaling) or 7 per output pixel, each an f64
/// and its normalised copy, plus a bound per output pixel.
const COEFFICIENT_BYTES: u64 = 96;

const WIDTH: Param<u32> = Param::uint("width", 1, MAX_DIMENSION).examples(&[Lit::Int(1600)]);
const HEIGHT: Param<u32> = Param::uint("height", 1, MAX_DIMENSION).examples(&[Lit::Int(1200)]);
const FIT: Param<&str> = Param::choice("fit", &["inside", "contain", "cover", "fill"]).default("inside").describe(
    "inside: keep aspect, fit within; contain: inside then pad to the box; cover: fill the box, crop the overflow (centred); fill: stretch",
);
const FILTER: Param<&str> = Param::choice("filter", &["nearest", "bilinear", "catmull_rom", "lanczos3"]).default("lanczos3");
const BACKGROUND: Param<[u8; 4]> = Param::colour("background").default([0, 0, 0, 255]).describe("padding colour for fit=contain");
const GRAVITY: Param<Gravity> =
    Param::choice_of("gravity", &GRAVITIES).default(Gravity::Center).describe("the part cover keeps, or where contain places the image");

impl Operation for ResizeParams {
    const DESCRIPTION: &'static str = "Scale the image. Give width, height or both; `fit` says how both are honoured.";
    const PARAMS: &'static [&'static dyn Describe] = &[&WIDTH, &HEIGHT, &FIT, &FILTER, &BACKGROUND, &GRAVITY];

    fn schema() -> Value {
        crate::spec::object(Self::PARAMS, json!({"anyOf": [crate::spec::given("width"), crate::spec::given("height")]}))
    }

    fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let (width, height) = (f.opt(&WIDTH)?, f.opt(&HEIGHT)?);
        // Stated in the schema as `anyOf` (see `schema`).
        if width.is_none() && height.is_none() {
            return Err(FieldError::new("width", "width or height is required"));
        }
        let fit = match f.get(&FIT)? {
            "contain" => Fit::Contain,
            "cover" => Fit::Cover,
            "fill" => Fit::Fill,
            _ => Fit::Inside,
        };
        let filter = match f.get(&FILTER)? {
            "nearest" => Filter::Nearest,
            "bilinear" => Filter::Bilinear,
            "catmull_rom" => Filter::CatmullRom,
            _ => Filter::Lanczos3,
        };
        Ok(ResizeParams { width, height, fit, filter, background: f.get(&BACKGROUND)?, gravity: f.get(&GRAVITY)? })
    }

    fn output_dims(&self, width: u32, height: u32) -> Result<(u32, u32), ImageError> {
        let dims = match (self.width, self.height, self.fit) {
            (Some(w), Some(h), Fit::Fill | Fit::Cover | Fit::Contain) => (w, h),
            (Some(w), Some(h), Fit::Inside) => scaled_inside(width, height, w, h),
            (Some(w), None, _) => (w, scale(height, w, width)),
            (None, Some(h), _) => (scale(width, h, height), h),
            (None, None, _) => (width, height),
        };
        if dims.0 > MAX_DIMENSION || dims.1 > MAX_DIMENSION {
            return Err(ImageError::Params(format!(
                "resizing {width}x{height} gives {}x{}; the largest side allowed is {MAX_DIMENSION}",
                dims.0, dims.1
            )));
        }
        Ok(dims)
    }

    fn output_channels(&self, channels: u8) -> u8 {
        // Padding with a see-through colour adds alpha.
        if self.fit == Fit::Contain && self.background[3] < 255 && channels % 2 == 1 {
            channels + 1
        } else {
            channels
        }
    }

    fn extra_bytes(&self, input: Shape, output: Shape) -> u64 {
        // fast_image_resize, as functions/tests/step_memory.rs measures it: the output; for 8-bit
        // samples the vertical pass runs first, into an intermediate of the input's width × the
        // output's height (a 16384x1 row made 1x16384 needs 16384² pixels: refused, not
        // attempted); with alpha, a premultiplied copy of the whole input; and the filter's
        // coefficient tables. `contain` then pads: the canvas and, for a see-through colour, the
        // scaled image's copy with alpha, each at most the output.
        let intermediate = u64::from(input.width) * u64::from(output.height) * u64::from(input.channels);
        let premultiplied = if input.channels.is_multiple_of(2) { input.bytes() } else { 0 };
        let sides = u64::from(input.width) + u64::from(input.height) + u64::from(output.width) + u64::from(output.height);
        let padded = if self.fit == Fit::Contain { 2 * output.bytes() } else { 0 };
        output.bytes() + intermediate + premultiplied + COEFFICIENT_BYTES * sides + padded
    }

    fn decode_hint(&self, width: u32, height: u32) -> Option<(u32, u32)> {
        let (w, h) = self.output_dims(width, height).ok()?;
        match self.fit {
            // Cover scales by the larger ratio before cropping: the decode must cover the box.
            Fit::Cover => {
                let s = (f64::from(w) / f64::from(width)).max(f64::from(h) / f64::from(height));
                Some(((f64::from(width) * s).ceil() as u32, (f64::from(height) * s).ceil() as u32))
            }
            _ => Some((w, h)),
        }
    }

    fn shrink(&self) -> Shrink {
        Shrink::Scale
    }

    fn apply(&self, src: Raster, _ctx: &ApplyCtx) -> Result<Raster, ImageError> {
        resize(src, self)
    }
}

/// `len * num / den`, rounded, at least 1.
fn scale(len: u32, num: u32, den: u32) -> u32 {
    let v = (u64::from(len) * u64::from(num) + u64::from(den) / 2) / u64::from(den.max(1));
    v.clamp(1, u64::from(u32::MAX)) as u32
}

/// The largest size with the input's aspect ratio that fits inside `box_w × box_h`.
fn scaled_inside(width: u32, height: u32, box_w: u32, box_h: u32) -> (u32, u32) {
    // Compare box_w/width with box_h/height without floating point.
    if u64::from(box_w) * u64::from(height) <= u64::from(box_h) * u64::from(width) {
        (box_w, scale(height, box_w, width))
    } else {
        (scale(width, box_h, height), box_h)
    }
}

/// Resizes `src` as `p` asks.
pub fn resize(src: Raster, p: &ResizeParams) -> Result<Raster, ImageError> {
    let (out_w, out_h) = p.output_dims(src.width, src.height)?;
    match p.fit {
        Fit::Contain => {
            let (in_w, in_h) = scaled_inside(src.width, src.height, out_w, out_h);
            let inner = scale_to(src, in_w, in_h, p.filter, None)?;
            Ok(pad(inner, out_w, out_h, p.background, p.gravity))
        }
        Fit::Cover => scale_to(src, out_w, out_h, p.filter, Some(p.gravity)),
        _ => scale_to(src, out_w, out_h, p.filter, None),
    }
}

impl ResizeParams {
    /// Whether this resize only scales (no crop, no padding), so it can run on YCbCr planes.
    pub fn is_plain_scale(&self) -> bool {
        matches!(self.fit, Fit::Inside | Fit::Fill) || self.width.is_none() || self.height.is_none()
    }
}

/// `resize` on YCbCr 4:2:0 planes, for a plain scale ([`ResizeParams::is_plain_scale`]): each
/// plane on its own, chroma to half the output size — half the samples of an RGB resize.
pub fn resize_planar(src: Planar, p: &ResizeParams) -> Result<Planar, ImageError> {
    let (out_w, out_h) = p.output_dims(src.width, src.height)?;
    let (cw, ch) = Planar::chroma_dims(src.width, src.height);
    let (ocw, och) = Planar::chroma_dims(out_w, out_h);
    let plane = |data: Vec<u8>, (w, h): (u32, u32), (ow, oh): (u32, u32)| -> Result<Vec<u8>, ImageError> {
        Ok(scale_to(Raster::new(w, h, Layout::Luma8, data)?, ow, oh, p.filter, None)?.pixels)
    };
    let y = plane(src.y, (src.width, src.height), (out_w, out_h))?;
    let cb = plane(src.cb, (cw, ch), (ocw, och))?;
    let cr = plane(src.cr, (cw, ch), (ocw, och))?;
    Planar::new(out_w, out_h, y, cb, cr)
}

fn pixel_type(layout: Layout) -> PixelType {
    match layout {
        Layout::Luma8 => PixelType::U8,
        Layout::LumaA8 => PixelType::U8x2,
        Layout::Rgb8 => PixelType::U8x3,
        Layout::Rgba8 => PixelType::U8x4,
    }
}

/// Scales to exactly `w × h`; with a `crop` gravity, the source is first cropped to that aspect,
/// keeping the window gravity names.
fn scale_to(src: Raster, w: u32, h: u32, filter: Filter, crop: Option<Gravity>) -> Result<Raster, ImageError> {
    if (w, h) == (src.width, src.height) {
        return Ok(src);
    }
    let layout = src.layout;
    let src_img = Image::from_vec_u8(src.width, src.height, src.pixels, pixel_type(layout))
        .map_err(|e| ImageError::Invalid(format!("raster does not match its size: {e}")))?;
    let mut dst = Image::new(w, h, pixel_type(layout));
    let alg = match filter {
        Filter::Nearest => ResizeAlg::Nearest,
        Filter::Bilinear => ResizeAlg::Convolution(FilterType::Bilinear),
        Filter::CatmullRom => ResizeAlg::Convolution(FilterType::CatmullRom),
        Filter::Lanczos3 => ResizeAlg::Convolution(FilterType::Lanczos3),
    };
    let mut options = ResizeOptions::new().resize_alg(alg);
    if let Some(gravity) = crop {
        options = options.fit_into_destination(Some(gravity.fraction()));
    }
    Resizer::new().resize(&src_img, &mut dst, &options).map_err(|e: fr::ResizeError| ImageError::Params(format!("cannot resize: {e}")))?;
    drop(src_img);
    Raster::new(w, h, layout, dst.into_vec())
}

/// Places `inner` at `gravity` on a `w × h` canvas filled with `bg`.
fn pad(inner: Raster, w: u32, h: u32, bg: [u8; 4], gravity: Gravity) -> Raster {
    // A see-through background needs an alpha channel even if the image had none.
    let inner = if bg[3] < 255 { super::grayscale::with_alpha(inner) } else { inner };
    let layout = inner.layout;
    let ch = layout.channels();
    let fill: Vec<u8> = match layout {
        Layout::Luma8 => vec![super::grayscale::luma(bg[0], bg[1], bg[2])],
        Layout::LumaA8 => vec![super::grayscale::luma(bg[0], bg[1], bg[2]), bg[3]],
        Layout::Rgb8 => bg[..3].to_vec(),
        Layout::Rgba8 => bg.to_vec(),
    };
    let mut pixels: Vec<u8> = fill.iter().copied().cycle().take(w as usize * h as usize * ch).collect();
    // `inner` fits inside (it was scaled to), so the corner is within the canvas.
    let (left, top) = gravity.place((w, h), (inner.width, inner.height), (0, 0));
    let (left, top) = (left.max(0) as usize, top.max(0) as usize);
    let row = inner.width as usize * ch;
    for (y, src_row) in inner.pixels.chunks_exact(row).enumerate() {
        let start = ((top + y) * w as usize + left) * ch;
        pixels[start..start + row].copy_from_slice(src_row);
    }
    Raster { width: w, height: h, layout, pixels }
}

#[cfg(test)]
#[path = "resize_tests.rs"]
mod tests;
