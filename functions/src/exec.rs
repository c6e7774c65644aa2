//! Running one step of a chain: stored bytes in, stored bytes out.
//!
//! Between steps the pixels travel as an intermediate raster (no encode/decode cost, lossless);
//! the last step always produces an encoded image, in the format the chain asked for or, if it
//! did not end with `encode`, in the source's own format.

use crate::decode::DecodeOptions;
use crate::error::ImageError;
use crate::format::Format;
use crate::ops::encode::{self, EncodeParams, OutputFormat};
use crate::ops::orient::AutoOrient;
use crate::ops::ApplyCtx;
use crate::ops::resize::resize_planar;
use crate::planar::Pixels;
use crate::raster;
use crate::registry::Step;
use std::collections::HashMap;

/// Media type of intermediate rasters (never served to users).
pub const RASTER_MEDIA_TYPE: &str = "application/x-stellar-raster";

/// What a step needs to know beyond its own parameters.
#[derive(Debug, Clone)]
pub struct StepContext<'a> {
    /// Format of the original upload (decides the output format when no `encode` ends the chain).
    pub source_format: Format,
    /// Whether this is the chain's first step (its input is the original upload).
    pub is_first: bool,
    /// Whether this is the chain's last step.
    pub is_last: bool,
    /// Largest image a decoder may produce.
    pub max_pixels: u64,
    /// Other uploaded images the step refers to, by id.
    pub aux: &'a HashMap<String, Vec<u8>>,
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

/// How the first step decodes the original: shrink-on-load when the step allows it, and the
/// EXIF orientation unless `auto_orient` turned it off.
fn decode_options(step: &Step, ctx: &StepContext, input: &[u8]) -> DecodeOptions {
    let orient = !matches!(step, Step::AutoOrient(AutoOrient { enabled: false }));
    let hint = if ctx.is_first {
        crate::format::probe(input).ok().and_then(|info| step.decode_hint(info.width, info.height))
    } else {
        None
    };
    DecodeOptions { hint, max_pixels: ctx.max_pixels, orient }
}

/// Runs `step` on `input` (an upload or a previous step's output).
pub fn run_step(step: &Step, input: Vec<u8>, ctx: &StepContext) -> Result<StepOutput, ImageError> {
    let opts = decode_options(step, ctx, &input);
    let pixels = raster::load_pixels(input, &opts, step.accepts_planar())?;
    let pixels = match (step, pixels) {
        (Step::Encode(p), pixels) => return encoded(pixels, p),
        (Step::Resize(p), Pixels::Planar(planes)) => Pixels::Planar(resize_planar(planes, p)?),
        (other, pixels) => Pixels::Raster(other.apply(pixels.into_raster(), &ApplyCtx { aux: ctx.aux, max_pixels: ctx.max_pixels })?),
    };
    if ctx.is_last {
        let p = EncodeParams { format: OutputFormat::default_for(ctx.source_format), quality: encode::DEFAULT_QUALITY };
        return encoded(pixels, &p);
    }
    let (width, height) = pixels.dims();
    Ok(StepOutput { bytes: pixels.into_bytes(), content_type: RASTER_MEDIA_TYPE, width, height, format: None })
}

fn encoded(pixels: Pixels, p: &EncodeParams) -> Result<StepOutput, ImageError> {
    let (width, height) = pixels.dims();
    let format = p.format.format();
    let bytes = match pixels {
        Pixels::Planar(planes) if p.format == OutputFormat::Jpeg => match crate::jpeg::encode::encode_planar(&planes, p.quality) {
            Some(bytes) => bytes,
            None => encode::encode(planes.into_raster(), p)?,
        },
        pixels => encode::encode(pixels.into_raster(), p)?,
    };
    Ok(StepOutput { bytes, content_type: format.mime(), width, height, format: Some(format) })
}

/// Runs a whole chain in memory, step after step, exactly as the queue runs it one message at a
/// time (same functions, same intermediate form). For benchmarks and tests.
pub fn run_chain(chain: &crate::Chain, source: Vec<u8>, max_pixels: u64, aux: &HashMap<String, Vec<u8>>) -> Result<StepOutput, ImageError> {
    let source_format = crate::format::sniff(&source).ok_or_else(|| ImageError::Unsupported("unknown format".into()))?;
    let n = chain.len();
    let mut bytes = source;
    for (i, step) in chain.steps().iter().enumerate() {
        let ctx = StepContext { source_format, is_first: i == 0, is_last: i + 1 == n, max_pixels, aux };
        let out = run_step(step, bytes, &ctx)?;
        if i + 1 == n {
            return Ok(out);
        }
        bytes = out.bytes;
    }
    Err(ImageError::Params("a chain has at least one step".into()))
}

#[cfg(test)]
#[path = "exec_tests.rs"]
mod tests;
