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
mod tests {
    use super::*;
    use serde_json::json;

    const LIMITS: Limits = Limits { max_pixels: 100_000_000, memory_budget: 96 << 20 };

    fn info(w: u32, h: u32) -> ImageInfo {
        ImageInfo { format: Format::Jpeg, width: w, height: h, progressive: false, wide: false }
    }

    #[test]
    fn small_chain_fits_and_reports_output_size() {
        let chain = Chain::parse(&json!([{"op":"resize","width":1600},{"op":"encode","format":"jpeg"}])).expect("chain");
        let plan = plan(&info(4000, 3000), 2_000_000, &chain, LIMITS).expect("fits");
        assert_eq!(plan.output, (1600, 1200));
        assert!(plan.peak_bytes > 2000 * 1500 * 3, "at least the raster decoded at 1/2 scale");
    }

    #[test]
    fn shrink_on_load_lets_a_48_megapixel_jpeg_fit_a_1600_px_resize() {
        let chain = Chain::parse(&json!([{"op":"resize","width":1600},{"op":"encode","format":"jpeg"}])).expect("chain");
        let plan = plan(&info(8000, 6000), 4_000_000, &chain, LIMITS).expect("fits");
        assert!(plan.peak_bytes < 64 << 20, "decoded at 1/4 scale: {} MiB", plan.peak_bytes >> 20);
        let full = Chain::parse(&json!([{"op":"grayscale"}])).expect("chain");
        assert!(super::plan(&info(8000, 6000), 4_000_000, &full, LIMITS).is_err(), "every pixel: does not fit");
    }

    fn preset(name: &str) -> Chain {
        crate::presets::chain(name).expect("preset")
    }

    #[test]
    fn presets_shrink_on_load_past_their_auto_orient() {
        for name in ["web", "thumbnail", "avatar"] {
            let big = plan(&info(8000, 6000), 8_000_000, &preset(name), LIMITS).expect("48 MP fits");
            assert!(big.peak_bytes < 48 << 20, "{name}: {} MiB from {:?}", big.peak_bytes >> 20, big.decoded);
            let photo = plan(&info(4000, 3000), 4_000_000, &preset(name), LIMITS).expect("12 MP fits");
            assert!(photo.decoded.0 <= 2000 && photo.decoded.1 <= 1500, "{name}: {:?}", photo.decoded);
            assert_eq!(photo.steps.len(), preset(name).len());
        }
        let web = plan(&info(4000, 3000), 4_000_000, &preset("web"), LIMITS).expect("fits");
        assert_eq!((web.decoded, web.output), ((2000, 1500), (1600, 1200)));
        assert_eq!(plan(&info(3000, 4000), 4_000_000, &preset("thumbnail"), LIMITS).expect("fits").decoded, (375, 500));
    }

    #[test]
    fn the_decode_follows_the_chain_up_to_its_first_resize() {
        let decoded =
            |steps: serde_json::Value| plan(&info(4000, 3000), 0, &Chain::parse(&steps).expect("chain"), LIMITS).expect("fits").decoded;
        assert_eq!(decoded(json!([{"op":"blur"},{"op":"resize","width":500}])), (4000, 3000), "a blur needs every pixel");
        assert_eq!(decoded(json!([{"op":"resize","width":500}])), (500, 375));
        // A quarter of the image, 500 px wide: the decode is twice as large.
        assert_eq!(decoded(json!([{"op":"crop","width":2000,"height":1500},{"op":"resize","width":500}])), (1000, 750));
        // Turned, 700 px wide is 700 px of the original's height: 1/4 (1000x750) is enough.
        assert_eq!(decoded(json!([{"op":"rotate","angle":90},{"op":"resize","width":700}])), (1000, 750));
    }

    #[test]
    fn steps_before_the_last_count_their_checkpoint_copy() {
        let chain = Chain::parse(&json!([{"op":"resize","width":1000},{"op":"invert"},{"op":"encode","format":"png"}])).expect("chain");
        let p = plan(&info(4000, 3000), 0, &chain, LIMITS).expect("fits");
        let raster = 1000 * 750 * 3;
        assert_eq!(p.steps[1], 2 * raster + 16, "invert works in place; its output and the checkpoint copy");
        assert_eq!(p.peak_bytes, p.steps.iter().copied().max().unwrap_or(0));
    }

    #[test]
    fn a_progressive_48_megapixel_jpeg_does_not_fit_even_when_shrinking() {
        let chain = Chain::parse(&json!([{"op":"resize","width":1600}])).expect("chain");
        let progressive = ImageInfo { progressive: true, ..info(8000, 6000) };
        let err = plan(&progressive, 4_000_000, &chain, LIMITS).unwrap_err();
        assert_eq!(err.code(), "image_too_large", "its coefficients alone are 288 MB");
        assert!(plan(&progressive, 4_000_000, &preset("web"), LIMITS).is_err(), "nor through a preset");
    }

    #[test]
    fn sixteen_bit_sources_count_their_double_width_decode_buffer() {
        let chain = Chain::parse(&json!([{"op":"grayscale"}])).expect("chain");
        let narrow = ImageInfo { format: Format::Png, ..info(2000, 1500) };
        let wide = ImageInfo { wide: true, ..narrow };
        let (a, b) = (plan(&narrow, 0, &chain, LIMITS).expect("fits"), plan(&wide, 0, &chain, LIMITS).expect("fits"));
        assert_eq!(b.peak_bytes - a.peak_bytes, 2000 * 1500 * 4, "the 16-bit RGBA decode buffer is 8 bytes a pixel");
    }

    #[test]
    fn content_aware_crops_plan_the_input_size_as_the_bound_and_count_their_score_grid() {
        let trim = Chain::parse(&json!([{"op":"trim"},{"op":"encode","format":"png"}])).expect("chain");
        let p = plan(&info(4000, 3000), 0, &trim, LIMITS).expect("fits");
        assert_eq!(p.output, (4000, 3000), "the kept box is only known from the pixels: the input bounds it");
        let smart = Chain::parse(&json!([{"op":"smart_crop","width":800,"height":600}])).expect("chain");
        assert_eq!(plan(&info(4000, 3000), 0, &smart, LIMITS).expect("fits").output, (800, 600));
        let extra = smart.steps()[0].extra_bytes(Shape::new(4000, 3000, 3), Shape::new(800, 600, 3));
        assert!(extra <= crate::ops::saliency::MAP_BYTES + (1 << 20), "the cut is in place: {extra}");
        let full = Chain::parse(&json!([{"op":"trim"}])).expect("chain");
        assert!(plan(&info(8000, 6000), 0, &full, LIMITS).is_err(), "trim needs every pixel: no shrink-on-load");
    }

    #[test]
    fn a_resize_to_the_transposed_shape_is_refused_for_its_intermediate() {
        // The resizer's vertical pass makes 16384 columns x 16384 rows (1 GiB) from one 64 KiB row.
        let chain =
            Chain::parse(&json!([{"op":"resize","width":1,"height":16384,"fit":"fill"},{"op":"encode","format":"png"}])).expect("chain");
        let err = plan(&ImageInfo { format: Format::Png, ..info(16384, 1) }, 0, &chain, LIMITS).unwrap_err();
        assert_eq!(err.code(), "image_too_large");
        assert!(err.to_string().contains("MEMORY_BUDGET_BYTES"), "{err}");
    }

    #[test]
    fn too_many_pixels_is_refused_with_the_limit_in_the_message() {
        let chain = Chain::parse(&json!([{"op":"grayscale"}])).expect("chain");
        let limits = Limits { max_pixels: 1_000, ..LIMITS };
        let err = plan(&info(100, 100), 10, &chain, limits).unwrap_err();
        assert_eq!(err.code(), "image_too_large");
        assert!(err.to_string().contains("1000"), "{err}");
    }

    #[test]
    fn chain_over_the_memory_budget_is_refused_with_numbers() {
        let chain = Chain::parse(&json!([{"op":"resize","width":16000},{"op":"encode","format":"png"}])).expect("chain");
        let err = plan(&info(8000, 6000), 4_000_000, &chain, LIMITS).unwrap_err();
        assert_eq!(err.code(), "image_too_large");
        assert!(err.to_string().contains("MEMORY_BUDGET_BYTES"), "{err}");
    }
}
