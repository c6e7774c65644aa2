//! AVIF output through ravif (rav1e, AV1 intra frame in a HEIF container), pure Rust.
//!
//! Built without ravif's `asm` and `threading` features: workerd runs one thread and no native
//! code, and the same build runs natively so that what the tests measure is what ships. Output is
//! 8-bit 4:4:4 YCbCr (ravif never subsamples chroma); 8-bit rather than ravif's 10-bit default
//! halves rav1e's frame buffers and is what every AVIF decoder reads. Alpha, when any pixel is
//! not opaque, goes in its own AV1 image at the same quality.

use crate::error::ImageError;
use crate::raster::{Layout, Raster};
use ravif::{AlphaColorMode, BitDepth, Encoder, MatrixCoefficients, PixelRange};

/// The fastest rav1e preset; what `speed` defaults to (docs/BENCHMARKS.md has the times).
pub const DEFAULT_SPEED: u8 = 10;

/// Working memory of an encode at `quality` besides the input raster, for `pixels` pixels,
/// output included. Measured with a counting allocator (functions/tests/encode_memory.rs, and
/// docs/BENCHMARKS.md "AVIF" for the worst cases): rav1e holds its 4:4:4 frames and analysis
/// planes, and, for the whole still frame, the entropy coder's record of every symbol before it
/// is written, which grows with the coded size — so with quality and with how busy the image
/// is. On uniform noise (the worst content) the peak per pixel was 80 B up to quality 85, 128 B
/// at 90–95, 221 B at 99 and 413 B at 100 (quantizer 0, rav1e's lossless mode); gradients and
/// photos hold about half. Planned from those worst cases with 10–20% to spare, and our RGB(A)
/// copy of the raster (4 bytes a pixel) on top; the alpha plane's encode runs after the colour
/// one and holds less.
pub fn work_bytes(pixels: u64, quality: u8) -> u64 {
    let per_pixel = match quality {
        0..=85 => 96,
        86..=95 => 148,
        96..=99 => 256,
        _ => 460,
    };
    pixels.saturating_mul(per_pixel + 4).saturating_add(FIXED)
}

/// Fixed tables and buffers of one encode, whatever the size (about 2 MB measured at 64×64).
const FIXED: u64 = 4 << 20;

/// Encodes `src` at `quality` (1–100, ravif's scale, as JPEG's and WebP's: higher is better and
/// larger) and rav1e `speed` (1 slowest … 10 fastest).
///
/// The planes go to `encode_raw_planes_8_bit` directly, converted here as ravif converts them:
/// its `encode_rgb`/`encode_rgba` pick 8 or 10 bits at run time, so calling them links rav1e a
/// second time for 16-bit pixels (about 100 KiB of the Worker's gzip budget) that we never use.
pub fn encode(src: &Raster, quality: u8, speed: u8, out: &mut Vec<u8>) -> Result<(), ImageError> {
    let quality = f32::from(quality.clamp(1, 100));
    let encoder = Encoder::new()
        .with_quality(quality)
        .with_alpha_quality(quality)
        .with_speed(speed.clamp(1, 10))
        .with_bit_depth(BitDepth::Eight)
        .with_alpha_color_mode(AlphaColorMode::UnassociatedDirty)
        .with_num_threads(Some(1));
    let (w, h) = (src.width as usize, src.height as usize);
    let px = &src.pixels;
    let encode = |planes: Vec<[u8; 3]>, alpha: Option<Vec<u8>>| {
        encoder.encode_raw_planes_8_bit(w, h, planes, alpha, PixelRange::Full, MatrixCoefficients::BT601)
    };
    let no_alpha = None::<Vec<u8>>;
    let encoded = match src.layout {
        Layout::Rgb8 => encode(px.chunks_exact(3).map(|p| ycbcr(p[0], p[1], p[2])).collect(), no_alpha),
        Layout::Luma8 => encode(px.iter().map(|&l| ycbcr(l, l, l)).collect(), no_alpha),
        // Alpha, when any pixel is not opaque, goes in its own AV1 image.
        Layout::Rgba8 => {
            let alpha = px.chunks_exact(4).any(|p| p[3] != 255).then(|| px.chunks_exact(4).map(|p| p[3]).collect());
            encode(px.chunks_exact(4).map(|p| ycbcr(p[0], p[1], p[2])).collect(), alpha)
        }
        Layout::LumaA8 => {
            let alpha = px.chunks_exact(2).any(|p| p[1] != 255).then(|| px.chunks_exact(2).map(|p| p[1]).collect());
            encode(px.chunks_exact(2).map(|p| ycbcr(p[0], p[0], p[0])).collect(), alpha)
        }
    };
    *out = encoded.map_err(|e| ImageError::Invalid(format!("cannot encode the avif: {e}")))?.avif_file;
    Ok(())
}

/// Full-range BT.601 YCbCr of one pixel, computed exactly as ravif 0.13 does for 8-bit output.
fn ycbcr(r: u8, g: u8, b: u8) -> [u8; 3] {
    const KR: f32 = 0.299;
    const KG: f32 = 0.587;
    const KB: f32 = 0.114;
    let (r, g, b) = (f32::from(r), f32::from(g), f32::from(b));
    let y = KB.mul_add(b, KR.mul_add(r, KG * g));
    let cb = b.mul_add(1.0, -y).mul_add(0.5 / (1. - KB), 128.0);
    let cr = r.mul_add(1.0, -y).mul_add(0.5 / (1. - KR), 128.0);
    [y.round() as u8, cb.round() as u8, cr.round() as u8]
}

#[cfg(test)]
#[path = "avif_tests.rs"]
mod tests;
