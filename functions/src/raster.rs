//! Decoded pixels, and the compact intermediate form stored between chain steps.
//!
//! Pixels stay in the narrowest layout that holds them (no RGBA when there is no alpha, one
//! channel after grayscale) so that each step touches and holds as few bytes as possible.

use crate::decode::{self, DecodeOptions};
use crate::error::ImageError;
use crate::format;
use crate::planar::{self, Pixels};

/// Channel layout of a [`Raster`], 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Luma8,
    LumaA8,
    Rgb8,
    Rgba8,
}

impl Layout {
    pub fn channels(self) -> usize {
        match self {
            Layout::Luma8 => 1,
            Layout::LumaA8 => 2,
            Layout::Rgb8 => 3,
            Layout::Rgba8 => 4,
        }
    }

    pub fn has_alpha(self) -> bool {
        matches!(self, Layout::LumaA8 | Layout::Rgba8)
    }

    fn tag(self) -> u8 {
        self.channels() as u8
    }

    fn from_tag(tag: u8) -> Option<Layout> {
        match tag {
            1 => Some(Layout::Luma8),
            2 => Some(Layout::LumaA8),
            3 => Some(Layout::Rgb8),
            4 => Some(Layout::Rgba8),
            _ => None,
        }
    }
}

/// An image in memory: `pixels.len() == width * height * layout.channels()`, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub pixels: Vec<u8>,
}

/// Magic of the intermediate form: "Stellar Studio Raster", version 1.
const MAGIC: &[u8; 4] = b"SSR1";
const HEADER_LEN: usize = 16;

impl Raster {
    /// Builds a raster, checking that the buffer matches the dimensions.
    pub fn new(width: u32, height: u32, layout: Layout, pixels: Vec<u8>) -> Result<Raster, ImageError> {
        let expected =
            byte_len(width, height, layout).ok_or_else(|| ImageError::TooLarge(format!("{width}x{height} does not fit in memory")))?;
        if width == 0 || height == 0 || pixels.len() != expected {
            return Err(ImageError::Invalid(format!("{width}x{height} {layout:?} needs {expected} bytes, got {}", pixels.len())));
        }
        Ok(Raster { width, height, layout, pixels })
    }

    /// The layout byte of the intermediate form.
    pub(crate) fn layout_tag(&self) -> u8 {
        self.layout.tag()
    }

    /// Serialises to the intermediate form: a 16-byte header (magic, layout, 3 spare bytes,
    /// width and height as little-endian u32), then the raw pixels.
    pub fn into_bytes(self) -> Vec<u8> {
        let mut out = intermediate_header(self.layout.tag(), self.width, self.height, self.pixels.len());
        out.extend_from_slice(&self.pixels);
        out
    }
}

/// The layout byte of YCbCr 4:2:0 planes ([`Planar`]) in the intermediate form.
pub(crate) const PLANAR_TAG: u8 = 0x20;

/// The intermediate header, in a buffer with room for `body` more bytes.
pub(crate) fn intermediate_header(tag: u8, width: u32, height: u32, body: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[tag, 0, 0, 0]);
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out
}

fn pixels_from_intermediate(mut bytes: Vec<u8>) -> Result<Pixels, ImageError> {
    if bytes.len() < HEADER_LEN {
        return Err(ImageError::Invalid("truncated intermediate raster".into()));
    }
    let tag = bytes[4];
    let width = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    let height = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
    // Drop the header in place rather than copying the pixels into a second buffer.
    bytes.drain(..HEADER_LEN);
    if tag == PLANAR_TAG {
        return Ok(Pixels::Planar(planar::from_intermediate_body(width, height, bytes)?));
    }
    let layout = Layout::from_tag(tag).ok_or_else(|| ImageError::Invalid("unknown intermediate raster layout".into()))?;
    Ok(Pixels::Raster(Raster::new(width, height, layout, bytes)?))
}

/// Bytes needed for `width × height` pixels of `layout`, or `None` on overflow.
pub fn byte_len(width: u32, height: u32, layout: Layout) -> Option<usize> {
    (width as usize).checked_mul(height as usize)?.checked_mul(layout.channels())
}

/// Turns stored bytes — an intermediate raster or an encoded image — into upright pixels.
///
/// `opts.max_pixels` bounds what a decoder may allocate, so a lying or hostile header is
/// refused instead of exhausting memory.
pub fn load(bytes: Vec<u8>, opts: &DecodeOptions) -> Result<Raster, ImageError> {
    Ok(load_pixels(bytes, opts, false)?.into_raster())
}

/// As [`load`], but a step that takes YCbCr planes (`planar_ok`) may get them: from a
/// planar intermediate, or from a baseline 4:2:0 JPEG decoded by our scaled decoder.
pub fn load_pixels(bytes: Vec<u8>, opts: &DecodeOptions, planar_ok: bool) -> Result<Pixels, ImageError> {
    if bytes.starts_with(MAGIC) {
        let pixels = pixels_from_intermediate(bytes)?;
        return Ok(if planar_ok { pixels } else { Pixels::Raster(pixels.into_raster()) });
    }
    decode_encoded(&bytes, opts, planar_ok)
}

/// Decodes an uploaded image held by someone else (a watermark among a step's loaded images)
/// without copying it: uploaded formats only, never an intermediate raster.
pub fn decode_upload(bytes: &[u8], opts: &DecodeOptions) -> Result<Raster, ImageError> {
    Ok(decode_encoded(bytes, opts, false)?.into_raster())
}

fn decode_encoded(bytes: &[u8], opts: &DecodeOptions, planar_ok: bool) -> Result<Pixels, ImageError> {
    let info = format::probe(bytes)?;
    if info.pixels() > opts.max_pixels {
        return Err(ImageError::TooLarge(format!(
            "{}x{} is {} pixels; the limit is {}",
            info.width,
            info.height,
            info.pixels(),
            opts.max_pixels
        )));
    }
    decode::decode(bytes, &info, opts, planar_ok)
}

/// Converts a decoded image to the narrowest 8-bit layout that keeps its channels.
pub(crate) fn from_dynamic(img: image::DynamicImage) -> Raster {
    use image::DynamicImage as D;
    let (width, height) = (img.width(), img.height());
    let (layout, pixels) = match img {
        D::ImageLuma8(b) => (Layout::Luma8, b.into_raw()),
        D::ImageLumaA8(b) => (Layout::LumaA8, b.into_raw()),
        D::ImageRgb8(b) => (Layout::Rgb8, b.into_raw()),
        D::ImageRgba8(b) => (Layout::Rgba8, b.into_raw()),
        other if other.color().has_alpha() => (Layout::Rgba8, other.to_rgba8().into_raw()),
        other => (Layout::Rgb8, other.to_rgb8().into_raw()),
    };
    Raster { width, height, layout, pixels }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Cursor;

    fn opts(max_pixels: u64) -> DecodeOptions {
        DecodeOptions { hint: None, max_pixels, max_alloc: 1 << 30, orient: true, keep_profile: false }
    }

    #[test]
    fn intermediate_form_round_trips() {
        let r = Raster::new(3, 2, Layout::Rgb8, (0..18).collect()).expect("valid raster");
        let back = load(r.clone().into_bytes(), &opts(100)).expect("round trip");
        assert_eq!(back, r);
    }

    #[test]
    fn truncated_intermediate_is_invalid_not_a_panic() {
        let mut bytes = Raster::new(4, 4, Layout::Rgba8, vec![7; 64]).expect("valid").into_bytes();
        bytes.truncate(30);
        assert_eq!(load(bytes, &opts(100)).unwrap_err().code(), "invalid_image");
    }

    #[test]
    fn image_over_the_pixel_limit_is_refused_before_decoding() {
        let img = image::RgbImage::new(20, 20);
        let mut png = Vec::new();
        image::DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut png), image::ImageOutputFormat::Png).expect("encode fixture");
        assert_eq!(load(png, &opts(399)).unwrap_err().code(), "image_too_large");
    }
}
