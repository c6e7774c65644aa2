//! The first frame's declared size in formats whose canvas and frames are sized apart (GIF,
//! extended WebP), checked against the canvas before anything is decoded.
//!
//! Why: the probe, the planner and the API report the canvas (GIF's logical screen, WebP's
//! `VP8X` canvas), but decoders allocate what the frame itself declares. A first frame declared
//! 8000×8000 on a 1×1 screen made the GIF decoder allocate 256 MB for an image planned at
//! 4 bytes, and a lossy bitstream declaring 16383×16383 inside a 1×1 WebP canvas made the VP8
//! decoder allocate 400 MB before noticing the mismatch. Such files are refused as invalid: a
//! frame larger than its canvas is a lie no encoder tells (clipping it would still mean
//! decoding every declared pixel). TIFF decodes its first page with that page's own size, and
//! PNG's APNG frames are checked against the header by the png crate, so neither needs this.

use crate::error::ImageError;
use crate::format::Format;

/// Refuses a first frame that does not fit the `canvas` its file declares.
pub(crate) fn check_first_frame(bytes: &[u8], format: Format, canvas: (u32, u32)) -> Result<(), ImageError> {
    match format {
        Format::Gif => check_gif(bytes, canvas),
        Format::Webp => check_webp(bytes),
        _ => Ok(()),
    }
}

fn check_gif(bytes: &[u8], (width, height): (u32, u32)) -> Result<(), ImageError> {
    let invalid = |e: gif::DecodingError| ImageError::Invalid(format!("cannot read the gif: {e}"));
    let mut options = gif::DecodeOptions::new();
    // Indexed output: reading a frame's descriptor then allocates nothing per pixel.
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut decoder = options.read_info(bytes).map_err(invalid)?;
    let frame = decoder.next_frame_info().map_err(invalid)?.ok_or_else(|| ImageError::Invalid("the gif has no frame".into()))?;
    let (fw, fh) = (u32::from(frame.width), u32::from(frame.height));
    if fw > width || fh > height {
        return Err(ImageError::Invalid(format!("the gif's first frame is {fw}x{fh}, larger than its {width}x{height} screen")));
    }
    Ok(())
}

/// A RIFF chunk: its four-character code and payload (cut at the end of the file).
fn chunks(mut rest: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    std::iter::from_fn(move || {
        let (head, body) = (rest.get(..8)?, rest.get(8..)?);
        let len = usize::try_from(u32::from_le_bytes([head[4], head[5], head[6], head[7]])).ok()?;
        let payload = body.get(..len).unwrap_or(body);
        // Payloads are padded to an even length.
        rest = body.get(len.saturating_add(len & 1)..).unwrap_or_default();
        Some((&head[..4], payload))
    })
}

/// Little-endian 24-bit field at `at`.
fn u24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}

/// In an extended WebP, the first lossy bitstream must declare the size of what holds it: the
/// canvas for a still image, its `ANMF` frame for an animation (image-webp checks the frame
/// against the canvas, and lossless bitstreams against their frame, itself before allocating).
fn check_webp(bytes: &[u8]) -> Result<(), ImageError> {
    let Some(body) = bytes.get(12..) else { return Ok(()) };
    let mut top = chunks(body);
    let Some((b"VP8X", header)) = top.next() else { return Ok(()) };
    let (Some(cw), Some(ch)) = (u24(header, 4), u24(header, 7)) else { return Ok(()) };
    for (code, payload) in top {
        let (expected, bitstream) = match code {
            b"VP8 " => ((cw + 1, ch + 1), Some(payload)),
            b"ANMF" => {
                let (Some(fw), Some(fh)) = (u24(payload, 6), u24(payload, 9)) else { return Ok(()) };
                let inner = payload.get(16..).unwrap_or_default();
                let image = chunks(inner).find(|(c, _)| matches!(*c, b"VP8 " | b"VP8L"));
                ((fw + 1, fh + 1), image.filter(|(c, _)| *c == b"VP8 ").map(|(_, p)| p))
            }
            b"VP8L" => return Ok(()),
            _ => continue,
        };
        return match bitstream.and_then(vp8_size) {
            Some(declared) if declared != expected => Err(ImageError::Invalid(format!(
                "the webp's first frame declares {}x{} inside a {}x{} frame",
                declared.0, declared.1, expected.0, expected.1
            ))),
            _ => Ok(()),
        };
    }
    Ok(())
}

/// The size a VP8 key frame's header declares (14 bits each, after the start code).
fn vp8_size(payload: &[u8]) -> Option<(u32, u32)> {
    if payload.get(3..6)? != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let w = u16::from_le_bytes([*payload.get(6)?, *payload.get(7)?]) & 0x3FFF;
    let h = u16::from_le_bytes([*payload.get(8)?, *payload.get(9)?]) & 0x3FFF;
    Some((u32::from(w), u32::from(h)))
}
