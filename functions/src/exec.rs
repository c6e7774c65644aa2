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
use crate::raster::{self, Raster};
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
    let raster = raster::load(input, &opts)?;
    let raster = match step {
        Step::Encode(p) => return encoded(raster, p),
        other => other.apply(raster, &ApplyCtx { aux: ctx.aux, max_pixels: ctx.max_pixels })?,
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
