//! The memory planner: from header dimensions alone, before any decoding, the peak bytes each
//! step of a chain will hold, so that what cannot fit an isolate is refused up front.
//!
//! Estimates are deliberately pessimistic (every buffer a step holds at once, at the widest
//! layout it may have). The steps of a chain run one after another in one job, in memory, each
//! dropping its input once its output exists; a chain's peak is therefore the largest single
//! step's, not the sum. Any step but the last may be followed by a checkpoint that serialises its
//! output (a copy: the raster plus a 16-byte header) for R2, so those steps also count their
//! output twice.
//!
//! Sizes are the executor's: step 0 decodes at the size [`shrink::decode_hint`] allows for the
//! whole chain, and the steps before the first resize run through [`shrink::adapt`] on that
//! reduced size while their full-decode (nominal) size is tracked beside it.

use crate::chain::Chain;
use crate::error::ImageError;
use crate::format::{Format, ImageInfo};
use crate::ops::encode::EncodeParams;
use crate::ops::Shape;
use crate::registry::Step;
use crate::shrink;

/// Operator limits (`MAX_INPUT_PIXELS`, `MEMORY_BUDGET_BYTES`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_pixels: u64,
    pub memory_budget: u64,
}

impl Limits {
    /// What a decoder may allocate while the encoded input (`input_len` bytes) is held: the
    /// budget less the input, as step 0's plan counts it.
    pub fn decoder_bytes(&self, input_len: usize) -> u64 {
        self.memory_budget.saturating_sub(u64::try_from(input_len).unwrap_or(u64::MAX))
    }
}

/// The planned cost of a chain on one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Largest planned peak of any step, in bytes.
    pub peak_bytes: u64,
    /// Size of the final output.
    pub output: (u32, u32),
    /// Size the original is decoded at (smaller than the image with shrink-on-load).
    pub decoded: (u32, u32),
    /// Each step's planned peak, in chain order.
    pub steps: Vec<u64>,
}

/// Bytes of the intermediate raster's header, which a checkpoint adds to its copy of the pixels.
const CHECKPOINT_HEADER_BYTES: u64 = 16;

/// Plans `chain` on an image described by `info` whose encoded size is `input_bytes`.
pub fn plan(info: &ImageInfo, input_bytes: u64, chain: &Chain, limits: Limits) -> Result<Plan, ImageError> {
    if info.pixels() > limits.max_pixels {
        return Err(ImageError::TooLarge(format!(
            "the image is {}x{} = {} pixels; MAX_INPUT_PIXELS is {}",
            info.width,
            info.height,
            info.pixels(),
            limits.max_pixels
        )));
    }
    let decoded = decoded_dims(info, chain.steps());
    // `(w, h)` is the pixels' real size; `nominal` the size a full-size decode would give.
    let ((mut w, mut h), mut nominal) = (decoded, (info.width, info.height));
    // Channels a decoder may produce: JPEG has no alpha; the others may.
    let mut channels: u8 = if info.format == Format::Jpeg { 3 } else { 4 };
    let mut steps = Vec::with_capacity(chain.len());
    // The source's metadata and profile, held from decode to encode when the chain keeps some,
    // and their rewritten copy while they are written into the output.
    let held = crate::metadata::held_bytes(chain.steps());
    for (i, step) in chain.steps().iter().enumerate() {
        let last = i + 1 == chain.len();
        let run = shrink::adapt(step, nominal, (w, h));
        // Checked at nominal size first, so errors name the sizes the user knows.
        nominal = step.output_dims(nominal.0, nominal.1)?;
        let in_bytes = u64::from(w) * u64::from(h) * u64::from(channels);
        // Step 0 also holds the encoded upload while decoding; later steps read the previous
        // step's raster in place.
        let load = if i == 0 { input_bytes + decode_bytes(info, (w, h)) } else { in_bytes };
        let (ow, oh) = run.output_dims(w, h)?;
        let out_channels = run.output_channels(channels);
        let out_bytes = u64::from(ow) * u64::from(oh) * u64::from(out_channels);
        let work = match &run {
            // Encoders' working copies depend on the channels they start from.
            Step::Encode(p) => in_bytes + p.extra_bytes(in_bytes, channels),
            _ => in_bytes + run.extra_bytes(Shape::new(w, h, channels), Shape::new(ow, oh, out_channels)),
        };
        (w, h, channels) = (ow, oh, out_channels);
        // A last step that is not `encode` encodes implicitly, in the source's format; any other
        // step's output may be checkpointed: the raster and its serialised copy.
        let after = if !last {
            2 * out_bytes + CHECKPOINT_HEADER_BYTES
        } else if !matches!(step, Step::Encode(_)) {
            let p = EncodeParams::default_for(info.format);
            out_bytes + p.extra_bytes(out_bytes, channels)
        } else {
            0
        };
        steps.push(load.max(work).max(after) + held);
    }
    let peak = steps.iter().copied().max().unwrap_or(0);
    if peak > limits.memory_budget {
        return Err(ImageError::TooLarge(format!(
            "this chain needs about {} MiB for a {}x{} image; MEMORY_BUDGET_BYTES allows {} MiB",
            peak.div_ceil(1 << 20),
            info.width,
            info.height,
            limits.memory_budget >> 20
        )));
    }
    Ok(Plan { peak_bytes: peak, output: (w, h), decoded, steps })
}

/// [`check_step`] for step `index` of `steps` (run as `run`), when its real `input` may not be
/// what the plan counted from the header: after a step that chose its output from the pixels
/// (`trim`), or when the chain turned `auto_orient` off (the header's size is the oriented one,
/// the pixels keep the stored one).
pub fn recheck(steps: &[Step], index: usize, run: &Step, input: Shape, limits: Limits) -> Result<(), ImageError> {
    let unoriented = matches!(steps.first(), Some(Step::AutoOrient(a)) if !a.enabled);
    let chosen = steps.get(..index).is_some_and(|done| done.iter().any(Step::reports_box));
    if unoriented || chosen {
        check_step(index, run, input, limits)
    } else {
        Ok(())
    }
}

/// Refuses step `index` on an `input` raster that does not fit the budget; the executor calls
/// this once the real input is known. The plan sized every step from the header, but the real
/// input can make a step larger than planned: a resize given one side of a thin box that `trim`
/// kept, or of pixels left in their stored orientation, grows the other side far past the
/// planned one (a 100 px wide band of a 1000 px image, resized to 1000 px wide, is 10000 px
/// tall). The figure is the plan's for the step: the step's work, or its output and a
/// checkpoint's copy of it.
pub fn check_step(index: usize, step: &Step, input: Shape, limits: Limits) -> Result<(), ImageError> {
    let (w, h) = step.output_dims(input.width, input.height)?;
    let output = Shape::new(w, h, step.output_channels(input.channels));
    let work = match step {
        Step::Encode(p) => p.extra_bytes(input.bytes(), input.channels),
        _ => step.extra_bytes(input, output),
    };
    let needed = (input.bytes() + work).max(2 * output.bytes() + CHECKPOINT_HEADER_BYTES);
    if needed > limits.memory_budget {
        return Err(ImageError::TooLarge(format!(
            "steps[{index}] ({}) needs about {} MiB on the {}x{} image the steps before it left; MEMORY_BUDGET_BYTES allows {} MiB",
            step.op(),
            needed.div_ceil(1 << 20),
            input.width,
            input.height,
            limits.memory_budget >> 20
        )));
    }
    Ok(())
}

/// Bytes decoding `info` at `decoded` size holds besides the encoded input: the decoder's own
/// buffers (twice the raster for [`ImageInfo::wide`] sources), the raster made from them, and a
/// progressive JPEG's coefficients. The decoders refuse from the header what exceeds what the
/// budget leaves them ([`Limits::decoder_bytes`]), with this same figure: what the planner
/// accepts decodes, and a header that lies to the planner cannot make a decoder allocate more.
pub fn decode_bytes(info: &ImageInfo, (w, h): (u32, u32)) -> u64 {
    // Channels a decoder may produce: JPEG has no alpha; the others may.
    let channels = if info.format == Format::Jpeg { 3 } else { 4 };
    let raster = u64::from(w) * u64::from(h) * channels;
    let decoder = if info.wide { raster * 2 } else { raster };
    // A GIF frame is decoded to palette indices, then to RGBA beside the screen's raster.
    let indices = if info.format == Format::Gif { u64::from(w) * u64::from(h) } else { 0 };
    decoder + raster + indices + coefficient_bytes(info) + crate::icc::ICC_BYTES
}

/// A progressive JPEG's decoder holds every DCT coefficient (2 bytes each, three full-size
/// components at worst) until the last scan, whatever the output scale.
fn coefficient_bytes(info: &ImageInfo) -> u64 {
    if info.progressive {
        info.pixels() * 3 * 2
    } else {
        0
    }
}

/// Size of the decoded original (shrink-on-load for JPEG, as far as the whole chain allows).
fn decoded_dims(info: &ImageInfo, steps: &[Step]) -> (u32, u32) {
    match (info.format, shrink::decode_hint(steps, info.width, info.height)) {
        (Format::Jpeg, Some(hint)) => crate::decode::jpeg_scale(info.width, info.height, hint),
        _ => (info.width, info.height),
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
