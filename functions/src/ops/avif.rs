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

/// Working memory of an encode at `quality` and `speed` besides the input raster, for `pixels`
/// pixels, output included. Measured with a counting allocator (functions/tests/encode_memory.rs;
/// docs/BENCHMARKS.md "AVIF" has the figures and `examples/avif_memory_diag.rs` the command):
///
/// - frame-sized buffers (rav1e's 4:4:4 source and reconstruction, analysis planes, per-block
///   state, our YCbCr copy): about 21 B a pixel whatever the tiling or quality, planned at
///   [`FRAME_BYTES`];
/// - the entropy coder's record of every symbol of a tile, kept until the tile ends (rav1e's
///   delayed loop-filter RDO), which grows with the coded size — with quality and with how busy
///   the image is. Tiles are encoded one after another (no `threading`), each record freed
///   before the next, so only the largest tile's counts: at most [`LARGEST_TILE`] pixels at
///   speed ≥ 5. Below speed 5 ravif refuses tiles smaller than 256² to 4096² pixels, so the
///   record is planned for the whole frame. On uniform noise (the worst content) the record
///   was about 49 B a tile pixel at quality 70, 61 at 85, 96–109 at 90–95, ~200 at 99 and ~390
///   at 100 (quantizer 0, rav1e's lossless mode); planned with 10–20% to spare.
///
/// The alpha plane's encode runs after the colour one, on one plane, and holds less.
///
/// Writing the XMP item and the profile into the file afterwards (`metadata::avif_boxes`)
/// copies the output once more with them: that runs after rav1e's buffers are freed, and a
/// copy of at most [`OUTPUT_BYTES`] a pixel plus the largest profile and packet fits in what
/// this figure planned for them (`tests::the_planned_work_covers_the_metadata_rewrite`).
pub fn work_bytes(pixels: u64, quality: u8, speed: u8) -> u64 {
    let record_per_pixel = match quality {
        0..=85 => 72,
        86..=95 => 128,
        96..=99 => 236,
        _ => 456,
    };
    let record_pixels = if speed >= MIN_TILED_SPEED { pixels.min(LARGEST_TILE) } else { pixels };
    pixels.saturating_mul(FRAME_BYTES).saturating_add(record_pixels.saturating_mul(record_per_pixel)).saturating_add(FIXED)
}

/// Frame-sized bytes a pixel: about 21 measured with our YCbCr copy (3) whatever the tiling,
/// and the alpha plane (1), with about 20% to spare.
const FRAME_BYTES: u64 = 26;

/// Fixed tables and buffers of one encode, whatever the size (about 2 MB measured at 64×64).
const FIXED: u64 = 4 << 20;

/// The most bytes a pixel an AVIF output takes (noise at quality 100, alpha included: the
/// storage bound's figure, `crate::stored`).
pub const OUTPUT_BYTES: u64 = 6;

/// The pixels one tile should cover: [`encode`] asks rav1e for `ceil(pixels / TILE_PIXELS)`
/// tiles. 128 Ki pixels (e.g. 448×320, 16 tiles at 1600×1200) bounds the symbol record to
/// 25 MB at quality 95, so a 1600×1200 encode up to quality 95 fits the default 96 MiB budget;
/// each tile restarts the entropy coder's adaptation, which cost under 1% of the bytes at this
/// size (docs/BENCHMARKS.md "AVIF"). One size for every quality keeps [`work_bytes`] growing
/// with quality, which a `max_bytes` search (planned at its highest quality) relies on.
const TILE_PIXELS: u64 = 1 << 17;

/// The largest tile rav1e makes from [`tiles_for`]'s count: it splits the frame into a
/// power-of-two grid of whole 64-pixel superblocks, at least that many tiles, so tiles run up
/// to a superblock wider and taller than the mean; 1.5 × [`TILE_PIXELS`] bounds them
/// (functions/tests/avif_tiling.rs checks it against rav1e's own tiling).
pub const LARGEST_TILE: u64 = TILE_PIXELS * 3 / 2;

/// The slowest speed at which ravif 0.13 accepts tiles of [`TILE_PIXELS`]: it caps the count at
/// `pixels / min_tile²`, with `min_tile` 128 (256 above quality 80) from speed 5 up, so the
/// count asked for is never cut there; below 5 the minimum tile is 256² to 4096² pixels.
const MIN_TILED_SPEED: u8 = 5;

/// The tile count [`encode`] asks for at `pixels` pixels (rav1e rounds it up to its grid).
pub fn tiles_for(pixels: u64) -> usize {
    usize::try_from(pixels.div_ceil(TILE_PIXELS)).unwrap_or(usize::MAX).max(1)
}

/// Encodes `src` at `quality` (1–100, ravif's scale, as JPEG's and WebP's: higher is better and
/// larger) and rav1e `speed` (1 slowest … 10 fastest), in [`tiles_for`] tiles, with `exif` (a
/// TIFF structure, the `metadata` policy's rewrite) as the file's Exif item.
///
/// The EXIF goes in here rather than after encoding, as it does for the other formats: the
/// container is written by ravif's avif-serialize, which frames a raw TIFF block itself (the
/// item's 4-byte offset to the TIFF header, then the TIFF) but stores no XMP item or profile;
/// those are written into its boxes afterwards (`metadata::avif_boxes`).
///
/// The planes go to `encode_raw_planes_8_bit` directly, converted here as ravif converts them:
/// its `encode_rgb`/`encode_rgba` pick 8 or 10 bits at run time, so calling them links rav1e a
/// second time for 16-bit pixels (about 100 KiB of the Worker's gzip budget) that we never use.
pub fn encode(src: &Raster, quality: u8, speed: u8, exif: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), ImageError> {
    encode_with(src, (quality, speed, tiles_for(u64::from(src.width) * u64::from(src.height))), exif, out)
}

/// [`encode`] asking for `tiles` tiles. ravif passes the count to rav1e as a thread count,
/// which without the `threading` feature only sets the tiling: maybe-rayon's thread pool and
/// parallel iterators are then serial shims, so tiles are encoded one after another.
pub fn encode_in_tiles(src: &Raster, quality: u8, speed: u8, tiles: usize, out: &mut Vec<u8>) -> Result<(), ImageError> {
    encode_with(src, (quality, speed, tiles), None, out)
}

fn encode_with(src: &Raster, (quality, speed, tiles): (u8, u8, usize), exif: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), ImageError> {
    let quality = f32::from(quality.clamp(1, 100));
    let mut encoder = Encoder::new()
        .with_quality(quality)
        .with_alpha_quality(quality)
        .with_speed(speed.clamp(1, 10))
        .with_bit_depth(BitDepth::Eight)
        .with_alpha_color_mode(AlphaColorMode::UnassociatedDirty)
        .with_num_threads(Some(tiles.max(1)));
    if let Some(exif) = exif {
        encoder = encoder.with_exif(exif);
    }
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
