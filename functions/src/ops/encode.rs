//! `encode`: pixels to PNG, JPEG, WebP or GIF bytes. Outputs carry no metadata (nothing is
//! copied over).
//!
//! JPEG goes through `jpeg-encoder` (faster than the `image` crate's encoder: docs/BENCHMARKS.md,
//! "Why these kernels"), WebP through `image-webp` (lossless VP8L only: there is no pure-Rust lossy
//! WebP encoder that builds for wasm), GIF through `image`'s encoder (one frame, ≤ 256 colours).

use crate::error::ImageError;
use crate::format::Format;
use crate::params::{FieldError, Fields};
use crate::raster::{byte_len, Layout, Raster};
use crate::spec::{Describe, Lit, Param};
use image::codecs::gif::GifEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ColorType, ImageEncoder};
use serde::{Deserialize, Serialize};

pub const DEFAULT_QUALITY: u8 = 85;

/// GIF palette quantisation speed (1–30): 10 is NeuQuant's customary trade-off; 1 (the `image`
/// crate's default) is several times slower for a barely visible gain.
const GIF_SPEED: i32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    Png,
    Jpeg,
    Webp,
    Gif,
}

const NAMES: [&str; 4] = ["png", "jpeg", "webp", "gif"];

impl OutputFormat {
    pub fn format(self) -> Format {
        match self {
            OutputFormat::Png => Format::Png,
            OutputFormat::Jpeg => Format::Jpeg,
            OutputFormat::Webp => Format::Webp,
            OutputFormat::Gif => Format::Gif,
        }
    }

    /// What to write when a chain does not end with `encode`: the source's own format when we
    /// can write it, PNG (lossless) otherwise. A WebP source comes back as lossless WebP.
    pub fn default_for(source: Format) -> OutputFormat {
        match source {
            Format::Jpeg => OutputFormat::Jpeg,
            Format::Webp => OutputFormat::Webp,
            Format::Gif => OutputFormat::Gif,
            _ => OutputFormat::Png,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodeParams {
    pub format: OutputFormat,
    pub quality: u8,
}

const FORMAT: Param<&str> = Param::choice("format", &NAMES).required().examples(&[Lit::Str("jpeg")]);
const QUALITY: Param<u8> =
    Param::byte("quality", 1, 100).default(DEFAULT_QUALITY).describe("JPEG quality; ignored by png, webp (lossless) and gif");

impl EncodeParams {
    pub const DESCRIPTION: &'static str = "Encode the pixels: png, jpeg (quality 1–100; alpha flattened over white), webp (always lossless; quality ignored) or gif (one frame, palette of 256 colours, 1-bit transparency; quality ignored). Metadata is never copied to the output.";
    pub const PARAMS: &'static [&'static dyn Describe] = &[&FORMAT, &QUALITY];

    pub fn schema() -> serde_json::Value {
        crate::spec::object(Self::PARAMS, serde_json::Value::Null)
    }

    pub fn parse(f: &mut Fields) -> Result<Self, FieldError> {
        let format = match f.get(&FORMAT)? {
            "png" => OutputFormat::Png,
            "webp" => OutputFormat::Webp,
            "gif" => OutputFormat::Gif,
            _ => OutputFormat::Jpeg,
        };
        Ok(EncodeParams { format, quality: f.get(&QUALITY)? })
    }

    /// Peak bytes encoding holds besides the raster, for a raster of `input` bytes with
    /// `channels` channels (the planner's `extra_bytes`, which needs the channel count here):
    /// WebP and GIF work on an RGBA copy (GIF adds a one-byte-a-pixel index), JPEG on a flattened
    /// copy when there is alpha; each also holds the encoded bytes, at most about the raster.
    pub fn extra_bytes(&self, input: u64, channels: u8) -> u64 {
        let pixels = input / u64::from(channels.clamp(1, 4));
        match self.format {
            OutputFormat::Png => input,
            OutputFormat::Jpeg if channels.is_multiple_of(2) => input.saturating_mul(2),
            OutputFormat::Jpeg => input,
            OutputFormat::Webp => pixels.saturating_mul(4).saturating_add(input),
            OutputFormat::Gif => pixels.saturating_mul(5).saturating_add(input),
        }
    }
}

/// Encodes `src`; JPEG has no alpha, so alpha is composited over white first.
pub fn encode(src: Raster, p: &EncodeParams) -> Result<Vec<u8>, ImageError> {
    // The encoders below assert on (or index by) the buffer size; refuse a mismatch instead.
    if byte_len(src.width, src.height, src.layout) != Some(src.pixels.len()) || src.width == 0 || src.height == 0 {
        return Err(ImageError::Invalid(format!("{}x{} raster has {} bytes", src.width, src.height, src.pixels.len())));
    }
    let mut out = Vec::with_capacity(src.pixels.len() / 4);
    let fail = |e: image::ImageError| ImageError::Invalid(format!("cannot encode: {e}"));
    match p.format {
        // fdeflate ("fast") with adaptive filters: photos come out about as small as with zlib
        // level 6 for a fraction of the time (docs/BENCHMARKS.md, "Why these kernels"); flat
        // graphics compress a little less well, which is the price.
        OutputFormat::Png => PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
            .write_image(&src.pixels, src.width, src.height, color_type(src.layout))
            .map_err(fail)?,
        OutputFormat::Jpeg => encode_jpeg(flatten(src), p.quality, &mut out)?,
        OutputFormat::Webp => encode_webp(&src, &mut out)?,
        OutputFormat::Gif => encode_gif(src, &mut out)?,
    }
    Ok(out)
}

fn encode_jpeg(src: Raster, quality: u8, out: &mut Vec<u8>) -> Result<(), ImageError> {
    let side = |v: u32| {
        u16::try_from(v)
            .map_err(|_| ImageError::Params(format!("jpeg is limited to 65535 pixels a side; the image is {}x{}", src.width, src.height)))
    };
    side(src.width)?;
    side(src.height)?;
    // `flatten` removed alpha: the raster is gray or RGB.
    let channels = src.layout.channels();
    *out = crate::jpeg::encode::encode(&src.pixels, channels, src.width as usize, src.height as usize, quality);
    Ok(())
}

fn encode_webp(src: &Raster, out: &mut Vec<u8>) -> Result<(), ImageError> {
    use image_webp::{ColorType as C, EncodingError, WebPEncoder};
    let colour = match src.layout {
        Layout::Luma8 => C::L8,
        Layout::LumaA8 => C::La8,
        Layout::Rgb8 => C::Rgb8,
        Layout::Rgba8 => C::Rgba8,
    };
    WebPEncoder::new(out).encode(&src.pixels, src.width, src.height, colour).map_err(|e| match e {
        EncodingError::InvalidDimensions => {
            ImageError::Params(format!("webp is limited to 16384 pixels a side; the image is {}x{}", src.width, src.height))
        }
        other => ImageError::Invalid(format!("cannot encode the webp: {other}")),
    })
}

/// One GIF frame. The `image` crate's GIF path needs RGBA; alpha 0 becomes the transparent index.
fn encode_gif(src: Raster, out: &mut Vec<u8>) -> Result<(), ImageError> {
    let (w, h) = (src.width, src.height);
    if w > u32::from(u16::MAX) || h > u32::from(u16::MAX) {
        return Err(ImageError::Params(format!("gif is limited to 65535 pixels a side; the image is {w}x{h}")));
    }
    let rgba = match src.layout {
        Layout::Rgba8 => src.pixels,
        Layout::Rgb8 => src.pixels.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        Layout::LumaA8 => src.pixels.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect(),
        Layout::Luma8 => src.pixels.iter().flat_map(|&l| [l, l, l, 255]).collect(),
    };
    let buffer = image::RgbaImage::from_raw(w, h, rgba).ok_or_else(|| ImageError::Invalid("gif frame buffer size".into()))?;
    // The encoder writes the GIF trailer when dropped, so it must be gone before `out` is used.
    let mut encoder = GifEncoder::new_with_speed(out, GIF_SPEED);
    encoder.encode_frame(image::Frame::new(buffer)).map_err(|e| ImageError::Invalid(format!("cannot encode the gif: {e}")))?;
    drop(encoder);
    Ok(())
}

fn color_type(layout: Layout) -> ColorType {
    match layout {
        Layout::Luma8 => ColorType::L8,
        Layout::LumaA8 => ColorType::La8,
        Layout::Rgb8 => ColorType::Rgb8,
        Layout::Rgba8 => ColorType::Rgba8,
    }
}

/// Drops alpha by compositing over white (what a viewer shows for transparent areas).
fn flatten(src: Raster) -> Raster {
    let over_white = |c: u8, a: u8| ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a)) + 127) / 255) as u8;
    let Raster { width, height, layout, pixels } = src;
    let (layout, pixels) = match layout {
        Layout::LumaA8 => (Layout::Luma8, pixels.chunks_exact(2).map(|p| over_white(p[0], p[1])).collect()),
        Layout::Rgba8 => (Layout::Rgb8, pixels.chunks_exact(4).flat_map(|p| [0, 1, 2].map(|i| over_white(p[i], p[3]))).collect()),
        other => (other, pixels),
    };
    Raster { width, height, layout, pixels }
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod tests;
