//! Format sniffing from magic bytes and header-only probing of dimensions.
//!
//! Uploads are classified by what their bytes are, never by the `Content-Type` a client claims,
//! and their dimensions come from the header alone so that nothing is decoded at upload time.

use crate::error::ImageError;
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// Image formats the studio reads, and AVIF, which it only writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
    Bmp,
    Tiff,
    /// Written by `encode` only: uploads in AVIF are not read (sniffing does not recognise them).
    Avif,
}

impl Format {
    /// The lowercase name used in the API (`"jpeg"`, `"png"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
            Format::Avif => "avif",
        }
    }

    /// Parses the lowercase API name.
    pub fn from_name(name: &str) -> Option<Format> {
        [Format::Jpeg, Format::Png, Format::Gif, Format::Webp, Format::Bmp, Format::Tiff].into_iter().find(|f| f.name() == name)
    }

    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
            Format::Bmp => "image/bmp",
            Format::Tiff => "image/tiff",
            Format::Avif => "image/avif",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            other => other.name(),
        }
    }

    pub(crate) fn to_image_format(self) -> image::ImageFormat {
        match self {
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::Png => image::ImageFormat::Png,
            Format::Gif => image::ImageFormat::Gif,
            Format::Webp => image::ImageFormat::WebP,
            Format::Bmp => image::ImageFormat::Bmp,
            Format::Tiff => image::ImageFormat::Tiff,
            Format::Avif => image::ImageFormat::Avif,
        }
    }
}

/// What the studio reads, with the caveats users should know (served by `GET /steps`). Every
/// format that can embed an ICC profile (JPEG, PNG, WebP, TIFF) is converted from it to sRGB on
/// decode (`icc.rs`).
pub const INPUT_NOTES: &[(&str, &str)] = &[
    ("jpeg", "baseline and progressive; EXIF orientation applied on decode; decoded at 1/2, 1/4 or 1/8 scale when the first step shrinks (shrink-on-load); an embedded colour profile (Display P3, Adobe RGB, ProPhoto, CMYK…) converted to sRGB; CMYK without a profile converted naively"),
    ("png", "8 and 16 bit (16-bit reduced to 8, after any colour-profile conversion), gray, RGB, with or without alpha; an embedded colour profile converted to sRGB"),
    ("webp", "lossy and lossless; first frame of animations; a frame or bitstream larger than the canvas is refused; an embedded colour profile converted to sRGB"),
    ("gif", "first frame only (animations are not processed frame by frame); a first frame larger than the logical screen is refused"),
    ("bmp", "uncompressed and RLE"),
    ("tiff", "classic and BigTIFF; uncompressed, LZW, Deflate, PackBits or JPEG; 8/16-bit gray, RGB, RGBA, CMYK (converted to RGB); an embedded colour profile converted to sRGB (16-bit samples at 16 bits); first page only; the Orientation tag is not applied"),
];

/// What the header says about an image, read without decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// Progressive JPEGs keep every DCT coefficient of the full image while decoding, whatever
    /// the output scale: the planner must know.
    pub progressive: bool,
    /// The decoder holds about twice the raster it makes, besides it: 16 bits per sample (PNG,
    /// TIFF), an animated WebP (its canvas and the first frame composed onto it), a JPEG
    /// without chroma subsampling (its full-size planes, twice).
    pub wide: bool,
}

impl ImageInfo {
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// Classifies bytes by their magic number; `None` when they are no format we read.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(PNG) {
        Some(Format::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(Format::Gif)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Format::Webp)
    } else if bytes.starts_with(b"BM") && bytes.len() >= 26 {
        Some(Format::Bmp)
    } else if [b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"].iter().any(|m| bytes.starts_with(*m)) {
        // Little- or big-endian TIFF (42) or BigTIFF (43).
        Some(Format::Tiff)
    } else {
        None
    }
}

/// Sniffs the format and reads the dimensions from the header only.
///
/// Unknown magic → [`ImageError::Unsupported`]; a known format whose header cannot be read, or
/// that declares a zero dimension → [`ImageError::Invalid`].
pub fn probe(bytes: &[u8]) -> Result<ImageInfo, ImageError> {
    let format = sniff(bytes).ok_or_else(|| ImageError::Unsupported("the body is not a JPEG, PNG, GIF, WebP, BMP or TIFF image".into()))?;
    if format == Format::Jpeg {
        // The JPEG path also reads EXIF, so the size reported is the upright one.
        return crate::decode::jpeg_header(bytes).map(|(info, _)| info);
    }
    if format == Format::Tiff {
        // Before the tiff crate sees it: it allocates what each entry's count claims.
        crate::tiff_ifd::check(bytes)?;
    }
    let (width, height, wide) = header(bytes, format)?;
    if width == 0 || height == 0 {
        return Err(ImageError::Invalid(format!("the {} header declares a zero dimension", format.name())));
    }
    // The size reported is the canvas: a first frame larger than it is refused here, at upload.
    crate::frames::check_first_frame(bytes, format, (width, height))?;
    Ok(ImageInfo { format, width, height, progressive: false, wide })
}

/// The header's dimensions, and whether the decoder holds about twice the raster besides it
/// ([`ImageInfo::wide`]). WebP through image-webp, which reads only chunk headers: the `image`
/// crate's WebP reader decodes the whole file (every animation frame) just to report its size.
fn header(bytes: &[u8], format: Format) -> Result<(u32, u32, bool), ImageError> {
    let invalid = |e: &dyn std::fmt::Display| ImageError::Invalid(format!("cannot read the {} header: {e}", format.name()));
    if format == Format::Png {
        return png_header(bytes).ok_or_else(|| invalid(&"the IHDR chunk is missing or malformed"));
    }
    if format == Format::Webp {
        let decoder = image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(|e| invalid(&e))?;
        let (width, height) = decoder.dimensions();
        // An animation's first frame is decoded beside the canvas it is composed onto.
        return Ok((width, height, decoder.is_animated()));
    }
    let reader = image::io::Reader::with_format(Cursor::new(bytes), format.to_image_format());
    let (width, height) = reader.into_dimensions().map_err(|e| invalid(&e))?;
    Ok((width, height, wide_samples(bytes, format)))
}

/// A PNG's size and sample depth, from its IHDR (which must come first) alone. Not through the
/// png decoder: it reads every chunk up to the image data, reserving what each chunk's length
/// field claims, so junk after the IHDR (or a huge text chunk) cost it memory before any
/// pixel; the probe needs 33 bytes.
fn png_header(bytes: &[u8]) -> Option<(u32, u32, bool)> {
    let ihdr = bytes.get(8..29)?;
    let be = |at: usize| ihdr.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes);
    if be(0)? != 13 || &ihdr[4..8] != b"IHDR" || !matches!(ihdr[16], 1 | 2 | 4 | 8 | 16) {
        return None;
    }
    Some((be(8)?, be(12)?, ihdr[16] == 16))
}

/// Whether a TIFF stores 16-bit samples (read from the header; `false` if unreadable,
/// since decoding will then fail anyway).
fn wide_samples(bytes: &[u8], format: Format) -> bool {
    use image::ImageDecoder;
    let colour = match format {
        Format::Tiff => image::codecs::tiff::TiffDecoder::new(Cursor::new(bytes)).map(|d| d.color_type()).ok(),
        _ => None,
    };
    colour.is_some_and(|c| c.bytes_per_pixel() > c.channel_count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::new(w, h);
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut out), image::ImageOutputFormat::Png).expect("encode fixture");
        out
    }

    #[test]
    fn probe_reads_png_dimensions_from_the_header() {
        let info = probe(&png(7, 3)).expect("valid png");
        assert_eq!((info.format, info.width, info.height, info.wide), (Format::Png, 7, 3, false));
    }

    #[test]
    fn probe_tells_16_bit_pngs_apart() {
        let img = image::ImageBuffer::<image::Rgb<u16>, Vec<u16>>::new(5, 4);
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb16(img).write_to(&mut Cursor::new(&mut out), image::ImageOutputFormat::Png).expect("encode");
        assert!(probe(&out).expect("valid png").wide);
    }

    #[test]
    fn a_png_is_probed_from_its_ihdr_whatever_junk_follows() {
        // After the IHDR, a chunk claiming 2 GiB: the png decoder reserved what such fields
        // claimed before any pixel; the probe reads 33 bytes and is done.
        let mut bytes = png(40, 30)[..33].to_vec();
        bytes.extend_from_slice(&[0x7F, 0xFF, 0xFF, 0xF0]);
        bytes.extend_from_slice(b"zTXt");
        bytes.extend(std::iter::repeat_n(0xAB, 4096));
        let info = probe(&bytes).expect("the header is intact");
        assert_eq!((info.width, info.height, info.wide), (40, 30, false));
        let mut bad_depth = png(4, 4);
        bad_depth[24] = 3;
        assert_eq!(probe(&bad_depth).unwrap_err().code(), "invalid_image", "bit depth 3 does not exist");
    }

    #[test]
    fn unknown_magic_is_unsupported() {
        assert_eq!(probe(b"hello world").unwrap_err().code(), "unsupported_media_type");
    }

    #[test]
    fn png_signature_followed_by_junk_is_invalid() {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend_from_slice(&[0x42; 40]);
        assert_eq!(probe(&bytes).unwrap_err().code(), "invalid_image");
    }

    #[test]
    fn tiff_probes_and_decodes() {
        let img = image::RgbImage::from_fn(6, 4, |x, y| image::Rgb([x as u8 * 40, y as u8 * 60, 7]));
        let mut tiff = Vec::new();
        image::DynamicImage::ImageRgb8(img.clone())
            .write_to(&mut Cursor::new(&mut tiff), image::ImageOutputFormat::Tiff)
            .expect("encode fixture");
        let info = probe(&tiff).expect("valid tiff");
        assert_eq!((info.format, info.width, info.height), (Format::Tiff, 6, 4));
        let opts = crate::decode::DecodeOptions { hint: None, max_pixels: 100, max_alloc: 8 << 20, orient: true, keep_profile: false };
        let r = crate::raster::load(tiff, &opts).expect("decodes");
        assert_eq!(r.pixels, img.into_raw());
    }

    #[test]
    fn sniff_recognises_every_supported_magic() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Format::Jpeg));
        assert_eq!(sniff(b"GIF89a...."), Some(Format::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::Webp));
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Some(Format::Tiff));
        assert_eq!(sniff(b"MM\0*\0\0\0\x08"), Some(Format::Tiff));
        assert_eq!(sniff(b""), None);
    }
}
