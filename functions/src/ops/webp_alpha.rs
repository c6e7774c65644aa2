//! The alpha of a lossy WebP: the alpha plane coded losslessly in an ALPH chunk beside libwebp's
//! VP8 chunk, in a VP8X container, as libwebp itself lays it out.
//!
//! Why not libwebp's own ALPH coder: it is its full lossless encoder, which held up to 43 bytes
//! a pixel on a noisy alpha plane (functions/tests/encode_memory.rs), so a 12 MP RGBA image could
//! not be encoded in an isolate. image-webp's VP8L coder (already here for `lossless: true`) holds
//! a few bytes a pixel; its output is a little larger on complex masks, and a mask is usually
//! mostly flat, where both spend almost nothing.

use crate::error::ImageError;
use crate::raster::Raster;

/// The alpha plane of `src` (the last byte of each pixel), or `None` when every pixel is
/// opaque: libwebp stores no alpha then either.
pub fn plane(src: &Raster) -> Option<Vec<u8>> {
    let channels = src.layout.channels();
    if !src.layout.has_alpha() || src.pixels.chunks_exact(channels).all(|p| p[channels - 1] == 255) {
        return None;
    }
    Some(src.pixels.chunks_exact(channels).map(|p| p[channels - 1]).collect())
}

/// Writes the RIFF file: VP8X (canvas size, the alpha flag), ALPH (`alpha` coded losslessly)
/// and the VP8 chunk of `vp8_file` (libwebp's output for the same size, without alpha).
pub fn mux(width: u32, height: u32, alpha: &[u8], vp8_file: &[u8], out: &mut Vec<u8>) -> Result<(), ImageError> {
    let broken = || ImageError::Invalid("cannot encode the webp: the encoder's output has no VP8 chunk".into());
    let vp8 = chunk(vp8_file, b"VP8 ").ok_or_else(broken)?;
    let alph = alph_payload(alpha, width, height)?;
    let mut vp8x = [0u8; 10];
    vp8x[0] = 0x10; // alpha
    vp8x[4..7].copy_from_slice(&(width - 1).to_le_bytes()[..3]);
    vp8x[7..10].copy_from_slice(&(height - 1).to_le_bytes()[..3]);
    let padded = |len: usize| 8 + len + (len & 1);
    let riff_size = 4 + padded(vp8x.len()) + padded(alph.len()) + padded(vp8.len());
    let riff_size = u32::try_from(riff_size).map_err(|_| ImageError::TooLarge("the webp would exceed 4 GiB".into()))?;
    out.reserve(8 + riff_size as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    for (fourcc, body) in [(b"VP8X", &vp8x[..]), (b"ALPH", &alph[..]), (b"VP8 ", vp8)] {
        out.extend_from_slice(fourcc);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
    }
    Ok(())
}

/// ALPH's payload: its header byte (no pre-processing, no filtering, compression 1 = lossless)
/// and the plane as a VP8L image stream of implicit size: image-webp's VP8L chunk without the
/// 5-byte header (signature and size) that ALPH leaves out.
fn alph_payload(alpha: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ImageError> {
    let mut file = Vec::new();
    image_webp::WebPEncoder::new(&mut file)
        .encode(alpha, width, height, image_webp::ColorType::L8)
        .map_err(|e| ImageError::Invalid(format!("cannot encode the webp's alpha: {e}")))?;
    let stream = chunk(&file, b"VP8L").and_then(|c| c.get(5..));
    let stream = stream.ok_or_else(|| ImageError::Invalid("cannot encode the webp's alpha: no VP8L chunk".into()))?;
    let mut payload = Vec::with_capacity(1 + stream.len());
    payload.push(1);
    payload.extend_from_slice(stream);
    Ok(payload)
}

/// The body of the first `fourcc` chunk of a RIFF/WEBP file.
fn chunk<'a>(file: &'a [u8], fourcc: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 12;
    while let Some(header) = file.get(at..at + 8) {
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let body = file.get(at + 8..at + 8 + size)?;
        if &header[..4] == fourcc {
            return Some(body);
        }
        at += 8 + size + (size & 1);
    }
    None
}
