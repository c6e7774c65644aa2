//! Colour management on decode: an embedded ICC profile other than sRGB (Display P3 from phones,
//! Adobe RGB and ProPhoto from cameras and editors, CMYK from print workflows) is converted to
//! sRGB as the pixels are decoded, with `moxcms` (pure Rust), so every later step and every
//! output works in the colour space browsers assume. A profile that cannot be read is ignored
//! (as browsers do): a broken tag must not make a photo unreadable. One over
//! [`MAX_PROFILE_BYTES`] is ignored too, checked before it is copied or inflated; only a PNG
//! whose deflated `iCCP` inflates past it is refused (see [`png_profile_too_large`]).
//!
//! The conversion runs a row at a time in place (two row buffers), so it adds no raster to
//! the plan: its allowance, [`ICC_BYTES`], covers the transform's tables (measured: 130 KiB for
//! a matrix-shaper RGB profile, 1.5 MiB for a LUT-based CMYK one) and the profile itself.
//!
//! `encode`'s `icc: "keep"` ([`IccPolicy`]) asks instead for the source's own profile in the
//! output and no conversion. The decode knows before it runs: like shrink-on-load, the choice is
//! read from the whole chain ([`chain_keeps`]) when the session decodes the original, and every
//! `encode` of a chain must agree ([`crate::Chain::parse`]) since the pixels live in one colour
//! space from decode to the last encode. Only an RGB profile is kept: a CMYK source is still
//! converted (its profile cannot describe RGB output pixels), and a gray output gets no RGB
//! profile.

use crate::error::ImageError;
use crate::format::Format;
use crate::raster::{Layout, Raster};
use crate::registry::Step;
use crate::spec::Param;
use moxcms::{ColorProfile, DataColorSpace, Layout as CmsLayout, RenderingIntent, TransformOptions, Xyzd};
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// Largest embedded profile honoured: real ones are 0.5–600 KiB; a bigger one is ignored.
pub const MAX_PROFILE_BYTES: usize = 1 << 20;

/// What colour management may add to a decode's peak: the profile, the transform's tables and
/// its row buffers.
pub const ICC_BYTES: u64 = 4 << 20;

const POLICIES: [&str; 2] = ["convert", "keep"];
pub(crate) const PARAM: Param<&str> = Param::choice("icc", &POLICIES).default("convert").describe(
    "the colour profile: convert (the source's profile is applied on decode and outputs are sRGB, with no profile) or keep (no conversion; the source's RGB profile is embedded in the output as JPEG APP2, PNG iCCP, WebP ICCP or an AVIF colr prof property; a CMYK source is still converted; every encode of a chain must agree)",
);

/// `encode`'s `icc` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IccPolicy {
    #[default]
    Convert,
    Keep,
}

impl IccPolicy {
    pub fn parse(name: &str) -> Self {
        if name == "keep" {
            IccPolicy::Keep
        } else {
            IccPolicy::Convert
        }
    }

    pub fn is_convert(&self) -> bool {
        *self == IccPolicy::Convert
    }
}

/// Whether the chain keeps the source's profile (its encodes agree: checked when it is parsed).
pub fn chain_keeps(steps: &[Step]) -> bool {
    steps.iter().any(|s| matches!(s, Step::Encode(p) if p.icc == IccPolicy::Keep))
}

/// The profile an `icc: "keep"` output carries: the one embedded in `bytes`, when it is readable,
/// not larger than [`MAX_PROFILE_BYTES`], and describes RGB.
pub fn keepable(bytes: &[u8], format: Format) -> Option<Vec<u8>> {
    let icc = embedded(bytes, format).filter(|icc| icc.len() <= MAX_PROFILE_BYTES)?;
    let profile = ColorProfile::new_from_slice(&icc).ok()?;
    (profile.color_space == DataColorSpace::Rgb).then_some(icc)
}

/// A source profile that needs converting (parsed, not sRGB).
pub struct SourceProfile(ColorProfile);

impl SourceProfile {
    /// The profile embedded in `bytes`, if there is one that is readable and not sRGB.
    pub fn of(bytes: &[u8], format: Format) -> Option<SourceProfile> {
        let icc = embedded(bytes, format).filter(|icc| icc.len() <= MAX_PROFILE_BYTES)?;
        let profile = ColorProfile::new_from_slice(&icc).ok()?;
        (!is_srgb(&profile)).then_some(SourceProfile(profile))
    }

    /// Whether the profile describes RGB (what `icc: "keep"` leaves unconverted).
    pub fn is_rgb(&self) -> bool {
        self.0.color_space == DataColorSpace::Rgb
    }

    /// Whether the profile describes CMYK (converted while the JPEG's inks are turned to RGB).
    pub fn is_cmyk(&self) -> bool {
        self.0.color_space == DataColorSpace::Cmyk
    }

    /// Converts an RGB(A) raster to sRGB in place, a row at a time. Gray rasters and profiles
    /// of another colour space are left as they are.
    pub fn to_srgb(&self, raster: &mut Raster) -> Result<(), ImageError> {
        let layout = match raster.layout {
            Layout::Rgb8 => CmsLayout::Rgb,
            Layout::Rgba8 => CmsLayout::Rgba,
            Layout::Luma8 | Layout::LumaA8 => return Ok(()),
        };
        if self.0.color_space != DataColorSpace::Rgb {
            return Ok(());
        }
        let Some(transform) = transform_8bit(&self.0, layout, layout) else { return Ok(()) };
        let row = raster.width as usize * raster.layout.channels();
        let mut out = vec![0u8; row];
        for line in raster.pixels.chunks_exact_mut(row) {
            transform.transform(line, &mut out).map_err(|e| ImageError::Invalid(format!("colour conversion: {e}")))?;
            line.copy_from_slice(&out);
        }
        Ok(())
    }

    /// CMYK ink amounts (4 a pixel, 0 = no ink, as jpeg-decoder returns them) to sRGB.
    pub fn cmyk_to_srgb(&self, cmyk: &[u8], width: u32) -> Option<Vec<u8>> {
        let transform = transform_8bit(&self.0, CmsLayout::Rgba, CmsLayout::Rgb)?;
        let w = width as usize;
        let mut rgb = Vec::with_capacity(cmyk.len() / 4 * 3);
        let mut out = vec![0u8; w * 3];
        for line in cmyk.chunks(w * 4) {
            let out = &mut out[..line.len() / 4 * 3];
            transform.transform(line, out).ok()?;
            rgb.extend_from_slice(out);
        }
        Some(rgb)
    }

    /// Converts 16-bit RGB(A) samples to sRGB at 16 bits, before they are reduced to 8: the
    /// reduction comes after the conversion, so a wide gamut loses no more than its rounding.
    pub fn to_srgb16(&self, samples: &mut [u16], width: u32, alpha: bool) -> Result<(), ImageError> {
        let layout = if alpha { CmsLayout::Rgba } else { CmsLayout::Rgb };
        if self.0.color_space != DataColorSpace::Rgb {
            return Ok(());
        }
        let options = TransformOptions { rendering_intent: RenderingIntent::RelativeColorimetric, ..Default::default() };
        let Ok(transform) = self.0.create_transform_16bit(layout, &ColorProfile::new_srgb(), layout, options) else { return Ok(()) };
        let row = width as usize * if alpha { 4 } else { 3 };
        let mut out = vec![0u16; row];
        for line in samples.chunks_exact_mut(row) {
            transform.transform(line, &mut out).map_err(|e| ImageError::Invalid(format!("colour conversion: {e}")))?;
            line.copy_from_slice(&out);
        }
        Ok(())
    }
}

/// Relative colorimetric, as browsers and libvips convert for display.
fn transform_8bit(profile: &ColorProfile, from: CmsLayout, to: CmsLayout) -> Option<std::sync::Arc<moxcms::Transform8BitExecutor>> {
    let options = TransformOptions { rendering_intent: RenderingIntent::RelativeColorimetric, ..Default::default() };
    profile.create_transform_8bit(from, &ColorProfile::new_srgb(), to, options).ok()
}

/// sRGB by its primaries (within the rounding of an ICC's s15Fixed16 numbers): converting it
/// to itself would only cost time. Profiles with sRGB primaries and another tone curve are rare
/// enough that their curve is not checked.
fn is_srgb(profile: &ColorProfile) -> bool {
    let srgb = ColorProfile::new_srgb();
    let near = |a: Xyzd, b: Xyzd| (a.x - b.x).abs() < 2e-3 && (a.y - b.y).abs() < 2e-3 && (a.z - b.z).abs() < 2e-3;
    profile.color_space == DataColorSpace::Rgb
        && profile.is_matrix_shaper()
        && near(profile.red_colorant, srgb.red_colorant)
        && near(profile.green_colorant, srgb.green_colorant)
        && near(profile.blue_colorant, srgb.blue_colorant)
}

/// The ICC profile stored in the file, if any and at most [`MAX_PROFILE_BYTES`]: a larger one
/// is dropped before it is copied, joined or inflated. None of these bytes is in a plan beyond
/// [`ICC_BYTES`], and a PNG's `iCCP` is deflated: a few KiB in the file could inflate to
/// gigabytes (the `image` crate's PNG reader inflates it without a bound).
pub fn embedded(bytes: &[u8], format: Format) -> Option<Vec<u8>> {
    use image::ImageDecoder;
    match format {
        Format::Jpeg => jpeg_profile(bytes),
        Format::Png => png_profile(bytes),
        // The tiff crate refuses a tag value over 1 MiB (its default `ifd_value_size`).
        Format::Tiff => image::codecs::tiff::TiffDecoder::new(Cursor::new(bytes)).ok()?.icc_profile(),
        Format::Webp => {
            let mut decoder = image_webp::WebPDecoder::new(Cursor::new(bytes)).ok()?;
            // The chunk is copied whole: refuse a larger one before it is.
            decoder.set_memory_limit(MAX_PROFILE_BYTES);
            decoder.icc_profile().ok().flatten()
        }
        Format::Gif | Format::Bmp | Format::Avif => None,
    }
    .filter(|icc| icc.len() <= MAX_PROFILE_BYTES)
}

/// A JPEG's profile: `APP2` segments tagged `ICC_PROFILE\0`, each with its sequence number and
/// the count, concatenated in sequence order (ICC.1 annex B.4).
fn jpeg_profile(bytes: &[u8]) -> Option<Vec<u8>> {
    let JpegIcc::Segments(mut chunks) = jpeg_icc(bytes) else { return None };
    if chunks.is_empty() {
        return None;
    }
    chunks.sort_by_key(|(seq, _)| *seq);
    Some(chunks.into_iter().flat_map(|(_, data)| data.iter().copied()).collect())
}

/// Whether a JPEG's ICC segments pass [`MAX_PROFILE_BYTES`] (or 255 segments). jpeg-decoder
/// copies every one of them while it reads the headers, whatever their size (a file of
/// 64 KiB segments is its own size again, in no plan), so such a file is refused before it
/// runs ([`crate::decode`]).
pub fn jpeg_profile_too_large(bytes: &[u8]) -> bool {
    matches!(jpeg_icc(bytes), JpegIcc::TooLarge)
}

/// A JPEG's ICC segments before the scan, as read by [`jpeg_icc`].
enum JpegIcc<'a> {
    /// (sequence number, data) of each.
    Segments(Vec<(u8, &'a [u8])>),
    /// More than 255 (sequence numbers are one byte) or more than [`MAX_PROFILE_BYTES`] in all.
    TooLarge,
    /// A segment runs past the end of the file.
    Truncated,
}

fn jpeg_icc(bytes: &[u8]) -> JpegIcc<'_> {
    const TAG: &[u8] = b"ICC_PROFILE\0";
    let mut chunks: Vec<(u8, &[u8])> = Vec::new();
    let (mut at, mut total) = (2, 0);
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) {
        // Start of scan: the headers are over.
        if marker == 0xDA {
            break;
        }
        let (Some(&high), Some(&low)) = (bytes.get(at + 2), bytes.get(at + 3)) else { return JpegIcc::Truncated };
        let len = usize::from(u16::from_be_bytes([high, low]));
        let Some(segment) = bytes.get(at + 4..at + 2 + len) else { return JpegIcc::Truncated };
        if marker == 0xE2 && segment.len() > TAG.len() + 2 && segment.starts_with(TAG) {
            chunks.push((segment[TAG.len()], &segment[TAG.len() + 2..]));
            total += segment.len() - TAG.len() - 2;
            if chunks.len() > 255 || total > MAX_PROFILE_BYTES {
                return JpegIcc::TooLarge;
            }
        }
        at += 2 + len;
    }
    JpegIcc::Segments(chunks)
}

/// A PNG's profile: its first `iCCP` chunk before the image data, as the png crate reads it
/// (CRC checked, a name of 1–79 bytes, compression method 0), inflated to at most
/// [`MAX_PROFILE_BYTES`].
fn png_profile(bytes: &[u8]) -> Option<Vec<u8>> {
    png_iccp(bytes)?.ok()
}

/// Whether a PNG's `iCCP` inflates past [`MAX_PROFILE_BYTES`]. The `image` crate's PNG reader
/// inflates it bounded only by the decoder's whole allocation limit, before the image data,
/// so such a file is refused before that reader runs ([`crate::decode`]).
pub fn png_profile_too_large(bytes: &[u8]) -> bool {
    matches!(png_iccp(bytes), Some(Err(fdeflate::BoundedDecompressionError::OutputTooLarge { .. })))
}

/// The first `iCCP` chunk before the image data, inflated (at most [`MAX_PROFILE_BYTES`]).
fn png_iccp(bytes: &[u8]) -> Option<Result<Vec<u8>, fdeflate::BoundedDecompressionError>> {
    let mut at = 8;
    while let Some(head) = bytes.get(at..at + 8) {
        let len = usize::try_from(u32::from_be_bytes([head[0], head[1], head[2], head[3]])).ok()?;
        let end = at.checked_add(12)?.checked_add(len)?;
        let (kind, data, crc) = (&head[4..8], bytes.get(at + 8..end - 4)?, bytes.get(end - 4..end)?);
        match kind {
            b"IDAT" | b"IEND" => return None,
            b"iCCP" => {
                let mut hasher = crc32fast::Hasher::new();
                hasher.update(kind);
                hasher.update(data);
                if hasher.finalize().to_be_bytes() != crc {
                    return None;
                }
                let name = data.iter().take(80).position(|&b| b == 0).filter(|&n| n > 0)?;
                let (&method, deflated) = data.get(name + 1..)?.split_first()?;
                return (method == 0).then(|| fdeflate::decompress_to_vec_bounded(deflated, MAX_PROFILE_BYTES));
            }
            _ => at = end,
        }
    }
    None
}

#[cfg(test)]
#[path = "icc_tests.rs"]
mod tests;
