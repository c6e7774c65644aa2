//! What a pixel step really holds while it runs, measured by a counting allocator, against what
//! the planner counts for it. The shapes are the hostile ones: a side far longer than
//! `MAX_DIMENSION` (inputs are bounded by their pixel count, not their sides), and a resize to
//! the transposed shape, where the resizer's intermediate is input width × output height.

#[path = "support/counting.rs"]
mod counting;

use counting::peak;
use functions::ops::ApplyCtx;
use functions::plan::{plan, Limits};
use functions::raster::{Layout, Raster};
use functions::{Chain, Format, ImageInfo};
use serde_json::{json, Value};
use std::collections::HashMap;

/// No refusal: the test compares figures, whatever they are.
const LIMITS: Limits = Limits { max_pixels: u64::MAX, memory_budget: u64::MAX };

/// Small fixed costs (lookup tables, kernels, glyph lists) beside the buffers a plan counts.
const SLACK: u64 = 64 << 10;

/// `step` run on a `w × h` RGBA raster in the middle of a chain: (the planner's peak for it, the
/// input raster plus the most the step held at once).
fn planned_and_held(step: Value, dims: (u32, u32)) -> (u64, u64) {
    planned_and_held_with(step, dims, &HashMap::new())
}

/// [`planned_and_held`] with stored images (`aux`), which the step holds throughout.
fn planned_and_held_with(step: Value, (w, h): (u32, u32), aux: &HashMap<String, Vec<u8>>) -> (u64, u64) {
    let chain = Chain::parse(&json!([{"op": "invert"}, step, {"op": "encode", "format": "png"}])).expect("chain");
    let info = ImageInfo { format: Format::Png, width: w, height: h, progressive: false, wide: false };
    let planned = plan(&info, 0, &chain, LIMITS).expect("planned").steps[1];
    let input = u64::from(w) * u64::from(h) * 4;
    let pixels: Vec<u8> = (0..input).map(|i| (i * 7 % 251) as u8).collect();
    let raster = Raster::new(w, h, Layout::Rgba8, pixels).expect("raster");
    let ctx = ApplyCtx { aux, max_pixels: u64::MAX };
    let (out, held) = peak(|| chain.steps()[1].apply(raster, &ctx).map(drop));
    out.expect("step runs");
    let stored: u64 = aux.values().map(|v| v.len() as u64).sum();
    (planned, input + stored + held)
}

/// The steps that hold more than the planner counts for them on a `dims` raster, with figures.
fn over_plan(steps: &[Value], dims: (u32, u32)) -> Vec<String> {
    steps
        .iter()
        .filter_map(|step| {
            let (planned, held) = planned_and_held(step.clone(), dims);
            (held > planned + SLACK).then(|| format!("{step} on {}x{}: held {held} bytes, the planner counts {planned}", dims.0, dims.1))
        })
        .collect()
}

fn assert_within_plan(step: Value, dims: (u32, u32)) {
    let over = over_plan(&[step], dims);
    assert!(over.is_empty(), "{over:#?}");
}

#[test]
fn a_resize_to_the_transposed_shape_holds_what_the_planner_counts() {
    // Vertical pass first: an intermediate of 2048 columns x 2048 rows, 16 MiB from an 8 KiB row.
    assert_within_plan(json!({"op": "resize", "width": 1, "height": 2048, "fit": "fill"}), (2048, 1));
    assert_within_plan(json!({"op": "resize", "width": 2048, "height": 1, "fit": "fill"}), (1, 2048));
}

#[test]
fn resizing_with_alpha_counts_the_premultiplied_copy() {
    assert_within_plan(json!({"op": "resize", "width": 400}), (1200, 900));
    assert_within_plan(json!({"op": "resize", "width": 300, "height": 300, "fit": "contain", "background": "#00000000"}), (1200, 900));
    assert_within_plan(json!({"op": "resize", "width": 300, "height": 300, "fit": "cover"}), (1200, 900));
}

#[test]
fn row_and_column_steps_hold_what_the_planner_counts_on_sides_past_16384() {
    let steps = [
        json!({"op": "blur", "sigma": 3}),
        json!({"op": "box_blur", "radius": 250}),
        json!({"op": "sharpen"}),
        json!({"op": "edge_detect"}),
        json!({"op": "emboss"}),
        json!({"op": "noise_reduction", "radius": 2}),
        json!({"op": "oil", "radius": 10}),
        json!({"op": "pixelate", "size": 2}),
        json!({"op": "filter", "name": "vintage"}),
        json!({"op": "smart_crop", "width": 64, "height": 1, "strategy": "entropy"}),
        json!({"op": "smart_crop", "width": 64, "height": 1}),
    ];
    let over = [over_plan(&steps, (200_000, 1)), over_plan(&steps, (1, 200_000))].concat();
    assert!(over.is_empty(), "{over:#?}");
}

#[test]
fn every_pixel_step_holds_what_the_planner_counts_on_a_photo_shape() {
    let steps = [
        json!({"op": "blur", "sigma": 100}),
        json!({"op": "blur", "sigma": 1}),
        json!({"op": "box_blur", "radius": 250}),
        json!({"op": "sharpen", "sigma": 10}),
        json!({"op": "edge_detect"}),
        json!({"op": "noise_reduction", "radius": 2}),
        json!({"op": "oil", "radius": 10}),
        json!({"op": "pixelate", "size": 1024}),
        json!({"op": "filter", "name": "vintage"}),
        json!({"op": "vignette"}),
        json!({"op": "rotate", "angle": 30}),
        json!({"op": "rotate", "angle": 90}),
        json!({"op": "pad", "left": 100, "bottom": 7, "background": "#ff000080"}),
        json!({"op": "crop", "width": 100, "height": 100, "gravity": "center"}),
        json!({"op": "trim"}),
        json!({"op": "smart_crop", "width": 100, "height": 100}),
        json!({"op": "text", "text": "Stellar Studio Stellar Studio", "size": 512}),
        json!({"op": "grayscale"}),
        json!({"op": "auto_levels"}),
        json!({"op": "stretch"}),
        json!({"op": "threshold", "grayscale": true}),
    ];
    let over = over_plan(&steps, (600, 400));
    assert!(over.is_empty(), "{over:#?}");
}

#[test]
fn a_watermark_scaled_down_a_little_holds_what_the_planner_counts() {
    // Noise does not compress: a stored file near the 8 MiB cap that decodes near the pixel cap.
    // Scaled by 1439/1440 with alpha, the resizer holds the decoded mark, its premultiplied copy,
    // an intermediate of 1440 columns x 1439 rows and the scaled mark at once.
    let side = 1440u32;
    let noise: Vec<u8> = (0..u64::from(side * side) * 4).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::NoFilter,
    );
    image::ImageEncoder::write_image(encoder, &noise, side, side, image::ColorType::Rgba8).expect("png");
    assert!(png.len() as u64 <= functions::ops::compose::WATERMARK_MAX_BYTES, "{} bytes", png.len());
    let id = "img_0123456789abcdef0123456789abcdef";
    let aux = HashMap::from([(id.to_string(), png)]);
    let step = json!({"op": "watermark", "image": id, "scale": 1.0});
    let (planned, held) = planned_and_held_with(step, (side - 1, 64), &aux);
    assert!(held <= planned + SLACK, "held {held} bytes, the planner counts {planned}");
}

#[test]
fn a_one_sided_resize_after_trim_is_refused_when_the_kept_box_makes_it_outgrow_the_budget() {
    // 1000x1000 planned, but trim keeps a 100 px wide band: resizing it to 1000 px wide makes
    // 1000x10000, ten times the output the plan counted from the header.
    let (w, h) = (1000u32, 1000u32);
    let img =
        image::RgbImage::from_fn(w, h, |x, _| if (450..550).contains(&x) { image::Rgb([200, 40, 40]) } else { image::Rgb([0, 0, 0]) });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img).write_to(&mut std::io::Cursor::new(&mut png), image::ImageOutputFormat::Png).expect("png");
    let chain = Chain::parse(&json!([{"op": "trim"}, {"op": "resize", "width": 1000}, {"op": "encode", "format": "png"}])).expect("chain");
    let limits = Limits { max_pixels: 100_000_000, memory_budget: 16 << 20 };
    let info = functions::format::probe(&png).expect("probe");
    let planned = plan(&info, png.len() as u64, &chain, limits).expect("the header alone fits the budget");
    assert_eq!(planned.output, (1000, 1000));
    let (ran, held) = peak(|| functions::session::run_chain(&chain, png, limits, &HashMap::new()).map(|o| (o.width, o.height)));
    let err = ran.expect_err("refused before the resize runs");
    assert_eq!(err.code(), "image_too_large");
    assert!(err.to_string().contains("100x1000") && err.to_string().contains("MEMORY_BUDGET_BYTES"), "{err}");
    assert!(held <= limits.memory_budget, "held {} MiB, budget {} MiB", held >> 20, limits.memory_budget >> 20);
}

/// A `w × h` baseline JPEG whose EXIF says to turn it a quarter (orientation 6).
fn jpeg_turned_a_quarter(w: u16, h: u16) -> Vec<u8> {
    let mut exif = b"Exif\0\0II\x2a\0\x08\0\0\0\x01\0".to_vec();
    exif.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
    let pixels: Vec<u8> = (0..usize::from(w) * usize::from(h) * 3).map(|i| (i * 7 % 251) as u8).collect();
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder.add_app_segment(1, &exif).expect("exif");
    encoder.encode(&pixels, w, h, jpeg_encoder::ColorType::Rgb).expect("jpeg");
    out
}

#[test]
fn a_one_sided_resize_of_an_unoriented_decode_is_refused_when_it_outgrows_the_budget() {
    // The header's size is the oriented 512x32; with auto_orient off the pixels stay 32x512, and
    // resizing them to 512 px wide makes 512x8192, not the planned 512x32.
    let jpeg = jpeg_turned_a_quarter(32, 512);
    let info = functions::format::probe(&jpeg).expect("probe");
    assert_eq!((info.width, info.height), (512, 32), "the probe reports the oriented size");
    let chain =
        Chain::parse(&json!([{"op": "auto_orient", "enabled": false}, {"op": "resize", "width": 512}, {"op": "encode", "format": "png"}]))
            .expect("chain");
    let limits = Limits { max_pixels: 100_000_000, memory_budget: 8 << 20 };
    assert_eq!(plan(&info, jpeg.len() as u64, &chain, limits).expect("the header alone fits the budget").output, (512, 32));
    let (ran, held) = peak(|| functions::session::run_chain(&chain, jpeg, limits, &HashMap::new()).map(|o| (o.width, o.height)));
    let err = ran.expect_err("refused before the resize runs");
    assert_eq!(err.code(), "image_too_large");
    assert!(err.to_string().contains("32x512"), "{err}");
    assert!(held <= limits.memory_budget, "held {} MiB, budget {} MiB", held >> 20, limits.memory_budget >> 20);
}
