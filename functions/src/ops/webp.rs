//! WebP output: lossy VP8 through zenwebp, lossless VP8L through image-webp.
//!
//! zenwebp (pinned to 0.2.1, the last MIT/Apache release) is the one pure-Rust lossy VP8 encoder
//! on the registry that builds for wasm32-unknown-unknown; docs/BENCHMARKS.md compares its bytes
//! at equal SSIM with libwebp's `cwebp`. image-webp stays for lossless: it is already in the tree
//! for decoding and its VP8L output is what `lossless: true` promised before lossy existed.

use crate::error::ImageError;
use crate::raster::{Layout, Raster};

/// libwebp's "method" (0–6, speed against size). 4 is cwebp's default, kept here: 6 buys a few
/// per cent of bytes for a third more time (docs/BENCHMARKS.md, "Why these kernels").
const METHOD: u8 = 4;

/// Lossy WebP's limit on either side (14-bit fields in the VP8 frame header); VP8L stores
/// side − 1 and so reaches 16384.
const MAX_LOSSY_SIDE: u32 = 16_383;
const MAX_LOSSLESS_SIDE: u32 = 16_384;

/// Working memory of a lossy encode besides the input raster and the output, for `pixels`
/// pixels of `channels` channels, measured with a counting allocator
/// (functions/tests/encode_memory.rs, 64×64 to 1600×1200, output included): RGB 2.8–3.1 bytes a
/// pixel (YUV 4:2:0 planes, per-macroblock analysis, token buffer), RGBA 6.3 (the alpha plane's
/// own lossless encode on top), gray 5.0 and gray+alpha 9.8 (our RGB/RGBA expansion on top, see
/// [`encode_lossy`]). Planned with about a byte a pixel to spare and 256 KiB for fixed tables.
pub fn lossy_work_bytes(pixels: u64, channels: u8) -> u64 {
    let per_pixel = match channels {
        1 => 6,
        2 => 11,
        3 => 4,
        _ => 7,
    };
    pixels.saturating_mul(per_pixel).saturating_add(256 << 10)
}

fn too_large(src: &Raster, max: u32) -> ImageError {
    ImageError::Params(format!("webp is limited to {max} pixels a side; the image is {}x{}", src.width, src.height))
}

/// Lossy VP8 at `quality` (1–100). Alpha, when present, is stored losslessly beside it (ALPH).
pub fn encode_lossy(src: &Raster, quality: u8, out: &mut Vec<u8>) -> Result<(), ImageError> {
    use zenwebp::{ColorType as C, EncoderParams, EncodingError, WebPEncoder};
    if src.width > MAX_LOSSY_SIDE || src.height > MAX_LOSSY_SIDE {
        return Err(too_large(src, MAX_LOSSY_SIDE));
    }
    // zenwebp 0.2.1 writes gray samples straight into Y (full range, chroma 127) where VP8 wants
    // BT.601 limited range: gray 200 decodes as 214. Gray goes in as RGB instead, which its
    // RGB path converts correctly (a copy of 3 bytes a pixel, planned in `lossy_work_bytes`).
    let expanded;
    let (pixels, colour) = match src.layout {
        Layout::Luma8 => {
            expanded = src.pixels.iter().flat_map(|&l| [l, l, l]).collect::<Vec<u8>>();
            (&expanded, C::Rgb8)
        }
        Layout::LumaA8 => {
            expanded = src.pixels.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0], p[1]]).collect::<Vec<u8>>();
            (&expanded, C::Rgba8)
        }
        Layout::Rgb8 => (&src.pixels, C::Rgb8),
        Layout::Rgba8 => (&src.pixels, C::Rgba8),
    };
    let mut params = EncoderParams::lossy(quality.clamp(1, 100));
    params.method = METHOD;
    let mut encoder = WebPEncoder::new(out);
    encoder.set_params(params);
    encoder.encode(pixels, src.width, src.height, colour).map_err(|e| match e {
        EncodingError::InvalidDimensions => too_large(src, MAX_LOSSY_SIDE),
        other => ImageError::Invalid(format!("cannot encode the webp: {other}")),
    })
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
