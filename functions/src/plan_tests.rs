//! Tests of the memory planner: shrink-on-load, the peak of each step, refusals with figures.

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
