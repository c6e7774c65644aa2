//! Running one step of a chain: stored bytes in, stored bytes out.
//!
//! Between steps the pixels travel as an intermediate raster (no encode/decode cost, lossless);
//! the last step always produces an encoded image, in the format the chain asked for or, if it
//! did not end with `encode`, in the source's own format.

use crate::chain::Step;
use crate::error::ImageError;
use crate::format::Format;
use crate::ops::encode::{self, EncodeParams, OutputFormat};
use crate::ops::{grayscale, resize};
use crate::raster::{self, Raster};

/// Media type of intermediate rasters (never served to users).
pub const RASTER_MEDIA_TYPE: &str = "application/x-stellar-raster";

/// What a step needs to know beyond its own parameters.
#[derive(Debug, Clone, Copy)]
pub struct StepContext {
    /// Format of the original upload (decides the output format when no `encode` ends the chain).
    pub source_format: Format,
    /// Whether this is the chain's last step.
    pub is_last: bool,
    /// Largest image a decoder may produce.
    pub max_pixels: u64,
}

/// The result of one step, ready to store.
#[derive(Debug)]
pub struct StepOutput {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    /// `Some` when `bytes` is an encoded image rather than an intermediate raster.
    pub format: Option<Format>,
}

/// Runs `step` on `input` (an upload or a previous step's output).
pub fn run_step(step: &Step, input: Vec<u8>, ctx: &StepContext) -> Result<StepOutput, ImageError> {
    let raster = raster::load(input, ctx.max_pixels)?;
    let raster = match step {
        Step::Resize(p) => resize::resize(raster, p)?,
        Step::Grayscale => grayscale::grayscale(raster),
        Step::Encode(p) => return encoded(raster, p),
    };
    if ctx.is_last {
        let p = EncodeParams { format: OutputFormat::default_for(ctx.source_format), quality: encode::DEFAULT_QUALITY };
        return encoded(raster, &p);
    }
    let (width, height) = (raster.width, raster.height);
    Ok(StepOutput { bytes: raster.into_bytes(), content_type: RASTER_MEDIA_TYPE, width, height, format: None })
}

fn encoded(raster: Raster, p: &EncodeParams) -> Result<StepOutput, ImageError> {
    let (width, height) = (raster.width, raster.height);
    let format = p.format.format();
    let bytes = encode::encode(raster, p)?;
    Ok(StepOutput { bytes, content_type: format.mime(), width, height, format: Some(format) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Chain;
    use serde_json::json;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 200]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&img)
            .expect("fixture");
        out
    }

    fn run_chain(chain: &Chain, mut bytes: Vec<u8>) -> Result<StepOutput, ImageError> {
        let n = chain.len();
        for (i, step) in chain.steps().iter().enumerate() {
            let ctx = StepContext { source_format: Format::Jpeg, is_last: i + 1 == n, max_pixels: 1 << 24 };
            let out = run_step(step, bytes, &ctx)?;
            if i + 1 == n {
                return Ok(out);
            }
            bytes = out.bytes;
        }
        unreachable!("chains are never empty")
    }

    #[test]
    fn resize_grayscale_png_chain_produces_a_gray_png_of_the_requested_width() {
        let chain = Chain::parse(&json!([{"op":"resize","width":32},{"op":"grayscale"},{"op":"encode","format":"png"}]))
            .expect("chain");
        let out = run_chain(&chain, jpeg(64, 48)).expect("runs");
        assert_eq!((out.width, out.height, out.format), (32, 24, Some(Format::Png)));
        let img = image::load_from_memory(&out.bytes).expect("decodes");
        assert_eq!(img.color(), image::ColorType::L8);
    }

    #[test]
    fn chain_without_encode_keeps_the_source_format() {
        let chain = Chain::parse(&json!([{"op":"resize","width":10}])).expect("chain");
        let out = run_chain(&chain, jpeg(20, 20)).expect("runs");
        assert_eq!((out.format, out.content_type), (Some(Format::Jpeg), "image/jpeg"));
    }

    #[test]
    fn truncated_jpeg_fails_with_invalid_image() {
        let mut bytes = jpeg(64, 64);
        bytes.truncate(bytes.len() / 3);
        let chain = Chain::parse(&json!([{"op":"grayscale"}])).expect("chain");
        assert_eq!(run_chain(&chain, bytes).unwrap_err().code(), "invalid_image");
    }
}
