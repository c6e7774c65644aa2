//! Progressive JPEG output (`encode` with `progressive: true`) through `jpeg-encoder`.
//!
//! Our own encoder ([`crate::jpeg::encode`]) writes baseline only; adding spectral-selection
//! scans to it would mean buffering every coefficient and a second entropy coder, which
//! jpeg-encoder (already used by the tests to make progressive fixtures) does and is checked
//! against independent decoders. It picks the same chroma subsampling as ours: 4:2:0 below
//! quality 90, 4:4:4 from 90.

use crate::error::ImageError;

/// Encodes `pixels` (gray if `channels` is 1, else RGB) of `width × height` at `quality` as a
/// progressive JPEG (SOF2, jpeg-encoder's 4 scans per component).
pub fn encode(pixels: &[u8], channels: usize, width: u16, height: u16, quality: u8, out: &mut Vec<u8>) -> Result<(), ImageError> {
    use jpeg_encoder::{ColorType, Encoder};
    let colour = if channels == 1 { ColorType::Luma } else { ColorType::Rgb };
    let mut encoder = Encoder::new(out, quality.clamp(1, 100));
    encoder.set_progressive(true);
    encoder.encode(pixels, width, height, colour).map_err(|e| ImageError::Invalid(format!("cannot encode the progressive jpeg: {e}")))
}
