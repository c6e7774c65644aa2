//! Decoding uploads into rasters: JPEG with DCT scaling (shrink-on-load: our `jpeg` module for
//! baseline files, `jpeg-decoder` for the rest) and EXIF orientation; WebP through image-webp;
//! the other formats through the `image` crate. An embedded colour profile other than sRGB is
//! converted to sRGB on the way ([`crate::icc`]), unless the chain keeps it.
//!
//! Every decoder is bounded by [`DecodeOptions::max_alloc`], what `MEMORY_BUDGET_BYTES` leaves
//! beside the encoded input, and refuses up front (from the header, with the planner's own
//! per-pixel figures) what would not fit: a limit derived from the pixel cap instead (100 M
//! pixels × 8 bytes) let a lying header allocate far past the isolate.

use crate::error::ImageError;
use crate::format::{Format, ImageInfo};
use crate::icc::SourceProfile;
use crate::ops::orient;
use crate::plan;
use crate::planar::Pixels;
use crate::raster::{from_dynamic, Layout, Raster};
use jpeg_decoder::{Decoder, PixelFormat};
use std::io::Cursor;

/// How to decode.
#[derive(Debug, Clone, Copy)]
pub struct DecodeOptions {
    /// The smallest size (after orientation) the chain needs; JPEGs may decode at 1/2, 1/4 or 1/8
    /// scale as long as both sides stay at least this large.
    pub hint: Option<(u32, u32)>,
    /// Largest image a decoder may produce.
    pub max_pixels: u64,
    /// Most bytes the decoder may allocate: what `MEMORY_BUDGET_BYTES` leaves beside the encoded
    /// input (see [`crate::plan::Limits::decoder_bytes`]).
    pub max_alloc: u64,
    /// Apply the EXIF orientation (the default; `auto_orient` with `enabled: false` turns it off).
    pub orient: bool,
    /// Leave an RGB source profile unconverted: the chain embeds it in its output
    /// ([`crate::icc::IccPolicy::Keep`]).
    pub keep_profile: bool,
}

/// Reads a JPEG's header: size after EXIF orientation, and the orientation itself (1–8).
pub fn jpeg_header(bytes: &[u8]) -> Result<(ImageInfo, u8), ImageError> {
    // jpeg-decoder copies every ICC segment while it reads the header, whatever their size.
    if crate::icc::jpeg_profile_too_large(bytes) {
        let cap = crate::icc::MAX_PROFILE_BYTES >> 10;
        return Err(ImageError::Invalid(format!("the JPEG's colour profile (APP2) is over {cap} KiB or 255 segments")));
    }
    let mut decoder = Decoder::new(bytes);
    decoder.read_info().map_err(|e| ImageError::Invalid(format!("cannot read the jpeg header: {e}")))?;
    let info = decoder.info().ok_or_else(|| ImageError::Invalid("the jpeg has no frame header".into()))?;
    let orientation = decoder.exif_data().map_or(1, orient::exif_orientation);
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    if w == 0 || h == 0 {
        return Err(ImageError::Invalid("the jpeg header declares a zero dimension".into()));
    }
    let (width, height) = if orient::swaps_axes(orientation) { (h, w) } else { (w, h) };
    let progressive = info.coding_process == jpeg_decoder::CodingProcess::DctProgressive;
    let wide = planes_exceed_half_raster(bytes);
    Ok((ImageInfo { format: Format::Jpeg, width, height, progressive, wide }, orientation))
}

/// Whether the frame's component planes hold more than 1.5 bytes a pixel (no chroma
/// subsampling, or CMYK). jpeg-decoder holds its planes twice beside its output at its peak
/// (measured: 6 bytes a pixel for 4:2:0, 9 for 4:4:4), so such files count as
/// [`ImageInfo::wide`]: their decoder holds twice the RGB raster.
fn planes_exceed_half_raster(bytes: &[u8]) -> bool {
    let mut at = 2;
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) {
        let Some(len) = bytes.get(at + 2..at + 4).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) else { return false };
        // SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let Some(sof) = bytes.get(at + 4..at + 2 + len) else { return false };
            let factors: Vec<(u32, u32)> =
                sof.get(6..).unwrap_or_default().chunks_exact(3).map(|c| (u32::from(c[1] >> 4), u32::from(c[1] & 15))).collect();
            let (hmax, vmax) = factors.iter().fold((1, 1), |(h, v), &(fh, fv)| (h.max(fh), v.max(fv)));
            // Σ hᵢvᵢ / (hmax·vmax) > 1.5, in integers.
            return 2 * factors.iter().map(|(h, v)| h * v).sum::<u32>() > 3 * hmax * vmax;
        }
        at += 2 + len;
    }
    false
}

/// Decodes `bytes` (probed as `info`) into upright pixels: YCbCr planes only if `planar_ok` and
/// the file is a baseline 4:2:0 JPEG shrunk on load, else a raster.
pub fn decode(bytes: &[u8], info: &ImageInfo, opts: &DecodeOptions, planar_ok: bool) -> Result<Pixels, ImageError> {
    if info.format != Format::Jpeg {
        fits(info, (info.width, info.height), opts.max_alloc)?;
    }
    // What the PNG reader would inflate before the pixels, bounded only by its allocation limit.
    if info.format == Format::Png && crate::icc::png_profile_too_large(bytes) {
        let cap = crate::icc::MAX_PROFILE_BYTES >> 10;
        return Err(ImageError::Invalid(format!("the PNG's colour profile (iCCP) inflates past {cap} KiB")));
    }
    // A kept RGB profile is not applied: the output carries it instead.
    let profile = SourceProfile::of(bytes, info.format).filter(|p| !(opts.keep_profile && p.is_rgb()));
    let mut raster = match info.format {
        // YCbCr planes skip RGB altogether, so a profiled JPEG takes the raster path.
        Format::Jpeg => match decode_jpeg(bytes, opts, planar_ok && profile.is_none(), profile.as_ref())? {
            Pixels::Raster(raster) => raster,
            planar => return Ok(planar),
        },
        Format::Webp => decode_webp(bytes, opts.max_alloc)?,
        other => return decode_generic(bytes, other, opts.max_alloc, profile.as_ref()).map(Pixels::Raster),
    };
    if let Some(profile) = profile.filter(|p| !p.is_cmyk()) {
        profile.to_srgb(&mut raster)?;
    }
    Ok(Pixels::Raster(raster))
}

/// Refuses a decode of `info` at `decoded` size that needs more than `max_alloc` bytes, by the
/// planner's own figure ([`plan::decode_bytes`]).
fn fits(info: &ImageInfo, decoded: (u32, u32), max_alloc: u64) -> Result<(), ImageError> {
    let need = plan::decode_bytes(info, decoded);
    if need > max_alloc {
        return Err(ImageError::TooLarge(format!(
            "decoding the {}x{} {} needs about {} MiB; MEMORY_BUDGET_BYTES leaves the decoder {} MiB",
            info.width,
            info.height,
            info.format.name(),
            need.div_ceil(1 << 20),
            max_alloc >> 20
        )));
    }
    Ok(())
}

/// The smallest JPEG scale (8 = full, 4, 2, 1 eighths) keeping both sides ≥ `want`.
pub(crate) fn jpeg_scale(width: u32, height: u32, want: (u32, u32)) -> (u32, u32) {
    let eighths = jpeg_eighths(width, height, want);
    ((width * eighths).div_ceil(8), (height * eighths).div_ceil(8))
}

/// The scale of [`jpeg_scale`], in eighths.
fn jpeg_eighths(width: u32, height: u32, want: (u32, u32)) -> u32 {
    let scaled = |len: u32, eighths: u32| (len * eighths).div_ceil(8);
    [1, 2, 4].into_iter().find(|&e| scaled(width, e) >= want.0 && scaled(height, e) >= want.1).unwrap_or(8)
}

fn decode_jpeg(bytes: &[u8], opts: &DecodeOptions, planar_ok: bool, profile: Option<&SourceProfile>) -> Result<Pixels, ImageError> {
    let (info, exif_orientation) = jpeg_header(bytes)?;
    let orientation = if opts.orient { exif_orientation } else { 1 };
    if info.pixels() > opts.max_pixels {
        return Err(ImageError::TooLarge(format!("{}x{} exceeds {} pixels", info.width, info.height, opts.max_pixels)));
    }
    // The scale to decode at, in eighths of the stored (not yet oriented) size.
    let eighths = opts.hint.map(|(hw, hh)| {
        let (hw, hh) = if orient::swaps_axes(orientation) { (hh, hw) } else { (hw, hh) };
        let (stored_w, stored_h) = if orient::swaps_axes(exif_orientation) { (info.height, info.width) } else { (info.width, info.height) };
        jpeg_eighths(stored_w, stored_h, (hw, hh))
    });
    let e = eighths.unwrap_or(8);
    fits(&info, ((info.width * e).div_ceil(8), (info.height * e).div_ceil(8)), opts.max_alloc)?;
    if let Some(e) = eighths.filter(|&e| e < 8) {
        if let Some(pixels) = decode_fast(bytes, e as usize, opts.max_pixels, planar_ok, orientation)? {
            return Ok(pixels);
        }
    }
    let raster = decode_with_jpeg_decoder(bytes, opts.max_alloc, eighths.unwrap_or(8), profile.filter(|p| p.is_cmyk()))?;
    Ok(Pixels::Raster(orient::apply_orientation(raster, orientation)))
}

/// Our own scaled decoder (baseline JPEGs, the common case); `None` leaves it to jpeg-decoder.
/// Planes are only for upright images: rotating them is not worth its code.
fn decode_fast(bytes: &[u8], eighths: usize, max_pixels: u64, planar_ok: bool, orientation: u8) -> Result<Option<Pixels>, ImageError> {
    if planar_ok && orientation == 1 {
        if let Some(planes) = crate::jpeg::decode_scaled_planar(bytes, eighths, max_pixels) {
            return Ok(Some(Pixels::Planar(planes)));
        }
    }
    let Some(d) = crate::jpeg::decode_scaled(bytes, eighths, max_pixels) else { return Ok(None) };
    let layout = if d.channels == 1 { Layout::Luma8 } else { Layout::Rgb8 };
    let raster = Raster::new(d.width, d.height, layout, d.pixels)?;
    Ok(Some(Pixels::Raster(orient::apply_orientation(raster, orientation))))
}

/// jpeg-decoder, for everything our decoder declines, at `eighths`/8 of the stored size.
fn decode_with_jpeg_decoder(bytes: &[u8], max_alloc: u64, eighths: u32, cmyk: Option<&SourceProfile>) -> Result<Raster, ImageError> {
    let invalid = |e: jpeg_decoder::Error| ImageError::Invalid(format!("cannot decode the jpeg: {e}"));
    // jpeg-decoder walks the whole image once per scan, however many there are.
    crate::jpeg::scans::check_scan_count(bytes)?;
    let mut decoder = Decoder::new(bytes);
    decoder.read_info().map_err(invalid)?;
    // Its output buffer, checked once more by the decoder itself.
    decoder.set_max_decoding_buffer_size(usize::try_from(max_alloc).unwrap_or(usize::MAX));
    if eighths < 8 {
        let info = decoder.info().ok_or_else(|| ImageError::Invalid("the jpeg has no frame".into()))?;
        let scaled = |v: u16| u16::try_from((u32::from(v) * eighths).div_ceil(8)).unwrap_or(u16::MAX);
        decoder.scale(scaled(info.width), scaled(info.height)).map_err(invalid)?;
    }
    let pixels = decoder.decode().map_err(invalid)?;
    let frame = decoder.info().ok_or_else(|| ImageError::Invalid("the jpeg has no frame".into()))?;
    let (w, h) = (u32::from(frame.width), u32::from(frame.height));
    match frame.pixel_format {
        PixelFormat::L8 => Raster::new(w, h, Layout::Luma8, pixels),
        PixelFormat::RGB24 => Raster::new(w, h, Layout::Rgb8, pixels),
        // 16-bit gray: keep the high byte (big-endian samples).
        PixelFormat::L16 => Raster::new(w, h, Layout::Luma8, pixels.chunks_exact(2).map(|p| p[0]).collect()),
        // Through the file's CMYK profile when it has one, else the naive formula.
        PixelFormat::CMYK32 => {
            let rgb = cmyk.and_then(|p| p.cmyk_to_srgb(&pixels, w)).unwrap_or_else(|| cmyk_to_rgb(&pixels));
            Raster::new(w, h, Layout::Rgb8, rgb)
        }
    }
}

/// Ink amounts (0 = no ink) to RGB without a profile. Adobe CMYK JPEGs are stored inverted and
/// jpeg-decoder undoes that, so its samples are inks: white is (0, 0, 0, 0). (This formula had
/// the inks the wrong way round until the colour tests compared a CMYK file with Little CMS.)
fn cmyk_to_rgb(px: &[u8]) -> Vec<u8> {
    px.chunks_exact(4)
        .flat_map(|p| {
            let k = 255 - u32::from(p[3]);
            [0, 1, 2].map(|i| (((255 - u32::from(p[i])) * k + 127) / 255) as u8)
        })
        .collect()
}

/// WebP through image-webp (the `image` crate's own reader decodes every animation frame).
/// Frames and bitstreams that do not fit their canvas were refused by the probe
/// ([`crate::frames`]); the output buffer is the canvas.
fn decode_webp(bytes: &[u8], max_alloc: u64) -> Result<Raster, ImageError> {
    let invalid = |e: image_webp::DecodingError| ImageError::Invalid(format!("cannot decode the webp: {e}"));
    let mut decoder = image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(invalid)?;
    decoder.set_memory_limit(usize::try_from(max_alloc).unwrap_or(usize::MAX));
    let (w, h) = decoder.dimensions();
    let size = decoder.output_buffer_size().ok_or_else(|| ImageError::TooLarge(format!("{w}x{h} does not fit in memory")))?;
    let mut pixels = vec![0; size];
    decoder.read_image(&mut pixels).map_err(invalid)?;
    let layout = if decoder.has_alpha() { Layout::Rgba8 } else { Layout::Rgb8 };
    Raster::new(w, h, layout, pixels)
}

fn decode_generic(bytes: &[u8], format: Format, max_alloc: u64, profile: Option<&SourceProfile>) -> Result<Raster, ImageError> {
    let mut reader = image::io::Reader::with_format(Cursor::new(bytes), format.to_image_format());
    let mut limits = image::io::Limits::default();
    // Counts the output buffer first, then every buffer the decoder reserves beside it (a GIF
    // frame off the screen's geometry, TIFF strips, PNG's own limit).
    limits.max_alloc = Some(max_alloc);
    reader.limits(limits);
    let mut decoded = reader.decode().map_err(|e| ImageError::Invalid(format!("cannot decode the {}: {e}", format.name())))?;
    let Some(profile) = profile else { return Ok(from_dynamic(decoded)) };
    // 16-bit samples are converted before they are reduced to 8 bits, keeping their precision.
    let width = decoded.width();
    let converted16 = match &mut decoded {
        image::DynamicImage::ImageRgb16(img) => profile.to_srgb16(img.as_mut(), width, false).map(|_| true)?,
        image::DynamicImage::ImageRgba16(img) => profile.to_srgb16(img.as_mut(), width, true).map(|_| true)?,
        _ => false,
    };
    let mut raster = from_dynamic(decoded);
    if !converted16 {
        profile.to_srgb(&mut raster)?;
    }
    Ok(raster)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_scale_keeps_both_sides_at_least_the_request() {
        assert_eq!(jpeg_scale(4000, 3000, (1600, 1200)), (2000, 1500));
        assert_eq!(jpeg_scale(8000, 6000, (1600, 1200)), (2000, 1500));
        assert_eq!(jpeg_scale(4000, 3000, (1600, 2000)), (4000, 3000), "a taller box needs full size");
        assert_eq!(jpeg_scale(4000, 3000, (100, 75)), (500, 375));
    }
}
