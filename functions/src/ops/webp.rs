//! WebP output: lossy VP8 through libwebp's own encoder (crates/webp-lossy), lossless VP8L
//! through image-webp.
//!
//! Lossy is cwebp's encoder with cwebp's defaults, so its bytes at a quality are cwebp's; it
//! replaced zenwebp 0.2.1 (the last MIT pure-Rust release), which spent 1.25–1.42× the bytes at
//! equal SSIM and ~10× the time (docs/BENCHMARKS.md). image-webp stays for lossless: it is
//! already in the tree for decoding and its VP8L output is what `lossless: true` promised.

use crate::error::ImageError;
use crate::raster::{Layout, Raster};

/// libwebp's "method" (0–6, speed against size). 4 is cwebp's default, kept here: 6 buys a few
/// per cent of bytes for a third more time (docs/BENCHMARKS.md, "Why these kernels").
const METHOD: u8 = 4;

/// Lossy WebP's limit on either side (14-bit fields in the VP8 frame header); VP8L stores
/// side − 1 and so reaches 16384.
const MAX_LOSSY_SIDE: u32 = 16_383;
const MAX_LOSSLESS_SIDE: u32 = 16_384;

/// Working memory of a lossy encode besides the input raster, for `pixels` pixels of `channels`
/// channels, output included, measured with a counting C heap that sees libwebp's allocations
/// (functions/tests/encode_memory.rs; worst case on noise at q100, 640×480 to 2000×1200). With
/// the token buffer ([`TOKEN_BUFFER_MAX_PIXELS`]): gray 24.4 bytes a pixel, RGB 29.0, one more
/// with alpha; without: gray 4.2, RGB 4.7, and 8–10 with alpha, whose plane, coding
/// ([`super::webp_alpha`]) and separate VP8 output then dominate. Photos take far less (RGB 7.2
/// at q80 with the buffer). Planned with 1–2 bytes a pixel to spare, and 256 KiB for tables.
pub fn lossy_work_bytes(pixels: u64, channels: u8) -> u64 {
    let per_pixel = match (low_memory(pixels), channels) {
        (false, 1) => 26,
        (false, 2) => 28,
        (false, 3) => 31,
        (false, _) => 32,
        (true, 1 | 3) => 6,
        (true, _) => 12,
    };
    pixels.saturating_mul(per_pixel).saturating_add(256 << 10)
}

/// Up to this many pixels libwebp keeps its token buffer (cwebp's default, from method 3 up:
/// every coefficient's tokens recorded for the whole image, then coded with the image's own
/// probabilities); above, `low_memory` (a second pass instead: measured on a 1600×1200 photo,
/// +0.1–0.3 % bytes at equal PSNR and 1.8× the time natively). The buffer is what makes the
/// figures of [`lossy_work_bytes`] so different: 1600×1200 (1.92 MP) still gets it.
const TOKEN_BUFFER_MAX_PIXELS: u64 = 2_000_000;

fn low_memory(pixels: u64) -> bool {
    pixels > TOKEN_BUFFER_MAX_PIXELS
}

fn too_large(src: &Raster, max: u32) -> ImageError {
    ImageError::Params(format!("webp is limited to {max} pixels a side; the image is {}x{}", src.width, src.height))
}

/// Lossy VP8 at `quality` (1–100), as `cwebp -q quality -m 4`. Alpha, when present, is stored
/// losslessly beside it (ALPH, [`super::webp_alpha`]).
pub fn encode_lossy(src: &Raster, quality: u8, out: &mut Vec<u8>) -> Result<(), ImageError> {
    use webp_lossy::{EncodeError, Pixels, Settings};
    if src.width > MAX_LOSSY_SIDE || src.height > MAX_LOSSY_SIDE {
        return Err(too_large(src, MAX_LOSSY_SIDE));
    }
    let pixels = match src.layout {
        Layout::Luma8 => Pixels::Luma(&src.pixels),
        Layout::LumaA8 => Pixels::LumaX(&src.pixels),
        Layout::Rgb8 => Pixels::Rgb(&src.pixels),
        Layout::Rgba8 => Pixels::Rgbx(&src.pixels),
    };
    let settings = Settings {
        quality: f32::from(quality.clamp(1, 100)),
        method: METHOD,
        low_memory: low_memory(u64::from(src.width) * u64::from(src.height)),
    };
    let encode = |out: &mut Vec<u8>| {
        webp_lossy::encode(pixels, src.width, src.height, settings, out).map_err(|e| match e {
            EncodeError::BadDimensions { .. } => too_large(src, MAX_LOSSY_SIDE),
            other => ImageError::Invalid(format!("cannot encode the webp: {other}")),
        })
    };
    match super::webp_alpha::plane(src) {
        None => encode(out),
        Some(alpha) => {
            let mut vp8 = Vec::new();
            encode(&mut vp8)?;
            super::webp_alpha::mux(src.width, src.height, &alpha, &vp8, out)
        }
    }
}

/// Lossless VP8L: the decoded pixels are exactly the raster's.
pub fn encode_lossless(src: &Raster, out: &mut Vec<u8>) -> Result<(), ImageError> {
    use image_webp::{ColorType as C, EncodingError, WebPEncoder};
    let colour = match src.layout {
        Layout::Luma8 => C::L8,
        Layout::LumaA8 => C::La8,
        Layout::Rgb8 => C::Rgb8,
        Layout::Rgba8 => C::Rgba8,
    };
    WebPEncoder::new(out).encode(&src.pixels, src.width, src.height, colour).map_err(|e| match e {
        EncodingError::InvalidDimensions => too_large(src, MAX_LOSSLESS_SIDE),
        other => ImageError::Invalid(format!("cannot encode the webp: {other}")),
    })
}
