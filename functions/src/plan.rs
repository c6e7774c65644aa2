//! The memory planner: from header dimensions alone, before any decoding, the peak bytes each
//! step of a chain will hold, so that what cannot fit an isolate is refused up front.
//!
//! Estimates are deliberately pessimistic (every buffer a step holds at once, at the widest
//! layout it may have). Each step runs in its own queue invocation, so a chain's peak is the
//! largest single step's, not the sum.

use crate::chain::Chain;
use crate::ops::encode::{EncodeParams, OutputFormat, DEFAULT_QUALITY};
use crate::registry::Step;
use crate::error::ImageError;
use crate::format::{Format, ImageInfo};

/// Operator limits (`MAX_INPUT_PIXELS`, `MEMORY_BUDGET_BYTES`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_pixels: u64,
    pub memory_budget: u64,
}

/// The planned cost of a chain on one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Largest planned peak of any step, in bytes.
    pub peak_bytes: u64,
    /// Size of the final output.
    pub output: (u32, u32),
}

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
    let (mut w, mut h) = (info.width, info.height);
    // Channels a decoder may produce: JPEG has no alpha; the others may.
    let mut channels: u8 = if info.format == Format::Jpeg { 3 } else { 4 };
    let mut peak = 0u64;
    for (i, step) in chain.steps().iter().enumerate() {
        if i == 0 {
            // Step 0 works on the decoded original, at a reduced size when the step allows
            // shrink-on-load.
            (w, h) = decoded_dims(info, step);
        }
        let in_bytes = u64::from(w) * u64::from(h) * u64::from(channels);
        // Step 0 also holds the encoded upload while decoding (and the decoder's own buffer —
        // twice the raster for 16-bit samples — beside the raster made from it); later steps
        // read an intermediate raster in place.
        let decoder = if info.wide { in_bytes * 2 } else { in_bytes };
        let load = if i == 0 { input_bytes + decoder + in_bytes + coefficient_bytes(info) } else { in_bytes };
        let (ow, oh) = step.output_dims(w, h)?;
        let out_channels = step.output_channels(channels);
        let out_bytes = u64::from(ow) * u64::from(oh) * u64::from(out_channels);
        let work = match step {
            // Encoders' working copies depend on the channels they start from.
            Step::Encode(p) => in_bytes + p.extra_bytes(in_bytes, channels),
            _ => in_bytes + step.extra_bytes(in_bytes, out_bytes),
        };
        (w, h, channels) = (ow, oh, out_channels);
        // A last step that is not `encode` encodes implicitly, in the source's format.
        let implicit_encode = if i + 1 == chain.len() && !matches!(step, Step::Encode(_)) {
            let p = EncodeParams { format: OutputFormat::default_for(info.format), quality: DEFAULT_QUALITY };
            out_bytes + p.extra_bytes(out_bytes, channels)
        } else {
            0
        };
        peak = peak.max(load.max(work).max(implicit_encode));
    }
    if peak > limits.memory_budget {
        return Err(ImageError::TooLarge(format!(
            "this chain needs about {} MiB for a {}x{} image; MEMORY_BUDGET_BYTES allows {} MiB",
            peak.div_ceil(1 << 20),
            info.width,
            info.height,
            limits.memory_budget >> 20
        )));
    }
    Ok(Plan { peak_bytes: peak, output: (w, h) })
}

/// A progressive JPEG's decoder holds every DCT coefficient (2 bytes each, three full-size
/// components at worst) until the last scan, whatever the output scale.
fn coefficient_bytes(info: &ImageInfo) -> u64 {
    if info.progressive { info.pixels() * 3 * 2 } else { 0 }
}

/// Size of the decoded original for the first step (shrink-on-load for JPEG).
fn decoded_dims(info: &ImageInfo, step: &Step) -> (u32, u32) {
    match (info.format, step.decode_hint(info.width, info.height)) {
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

    #[test]
    fn a_progressive_48_megapixel_jpeg_does_not_fit_even_when_shrinking() {
        let chain = Chain::parse(&json!([{"op":"resize","width":1600}])).expect("chain");
        let progressive = ImageInfo { progressive: true, ..info(8000, 6000) };
        let err = plan(&progressive, 4_000_000, &chain, LIMITS).unwrap_err();
        assert_eq!(err.code(), "image_too_large", "its coefficients alone are 288 MB");
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
