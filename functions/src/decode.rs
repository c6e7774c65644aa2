//! Decoding uploads into rasters: JPEG with DCT scaling (shrink-on-load: our `jpeg` module for
//! baseline files, `jpeg-decoder` for the rest) and EXIF orientation; the other formats through the `image` crate, with allocation limits.

use crate::error::ImageError;
use crate::format::{Format, ImageInfo};
use crate::ops::orient;
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
    /// Apply the EXIF orientation (the default; `auto_orient` with `enabled: false` turns it off).
    pub orient: bool,
}

/// Reads a JPEG's header: size after EXIF orientation, and the orientation itself (1–8).
pub fn jpeg_header(bytes: &[u8]) -> Result<(ImageInfo, u8), ImageError> {
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
    Ok((ImageInfo { format: Format::Jpeg, width, height, progressive, wide: false }, orientation))
}

/// Decodes `bytes` of `format` (already sniffed) into upright pixels: YCbCr planes only if
/// `planar_ok` and the file is a baseline 4:2:0 JPEG shrunk on load, else a raster.
pub fn decode(bytes: &[u8], format: Format, opts: &DecodeOptions, planar_ok: bool) -> Result<Pixels, ImageError> {
    match format {
        Format::Jpeg => decode_jpeg(bytes, opts, planar_ok),
        other => decode_generic(bytes, other, opts.max_pixels).map(Pixels::Raster),
    }
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

fn decode_jpeg(bytes: &[u8], opts: &DecodeOptions, planar_ok: bool) -> Result<Pixels, ImageError> {
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
    if let Some(e) = eighths.filter(|&e| e < 8) {
        if let Some(pixels) = decode_fast(bytes, e as usize, opts.max_pixels, planar_ok, orientation)? {
            return Ok(pixels);
        }
    }
    let raster = decode_with_jpeg_decoder(bytes, opts.max_pixels, eighths.unwrap_or(8))?;
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
fn decode_with_jpeg_decoder(bytes: &[u8], max_pixels: u64, eighths: u32) -> Result<Raster, ImageError> {
    let invalid = |e: jpeg_decoder::Error| ImageError::Invalid(format!("cannot decode the jpeg: {e}"));
    let mut decoder = Decoder::new(bytes);
    decoder.read_info().map_err(invalid)?;
    // The decoder bounds its own buffers too, so a header that lies about the size cannot
    // make it allocate past the budget.
    decoder.set_max_decoding_buffer_size(usize::try_from(max_pixels.saturating_mul(4)).unwrap_or(usize::MAX));
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
        PixelFormat::CMYK32 => Raster::new(w, h, Layout::Rgb8, cmyk_to_rgb(&pixels)),
    }
}

/// Adobe CMYK JPEGs are stored inverted; jpeg-decoder returns them as is.
fn cmyk_to_rgb(px: &[u8]) -> Vec<u8> {
    px.chunks_exact(4)
        .flat_map(|p| {
            let k = u32::from(p[3]);
            [0, 1, 2].map(|i| ((u32::from(p[i]) * k + 127) / 255) as u8)
        })
        .collect()
}

fn decode_generic(bytes: &[u8], format: Format, max_pixels: u64) -> Result<Raster, ImageError> {
    let mut reader = image::io::Reader::with_format(Cursor::new(bytes), format.to_image_format());
    let mut limits = image::io::Limits::default();
    // RGBA at 16 bits per channel is the largest buffer a decoder makes for these pixels.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).max(1 << 20));
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| ImageError::Invalid(format!("cannot decode the {}: {e}", format.name())))?;
    Ok(from_dynamic(decoded))
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
