//! Tests of shrink-on-load through the chain: which chains get a reduced decode, and that a
//! reduced decode run the way the executor runs it (through `adapt`, nominal sizes tracked) gives
//! the same output size and nearly the same pixels as a full-size decode.

use super::*;
use crate::chain::Chain;
use crate::decode::{self, jpeg_scale, DecodeOptions};
use crate::ops::geometry::CropParams;
use crate::ops::ApplyCtx;
use crate::presets;
use crate::raster::Raster;
use serde_json::{json, Value};
use std::collections::HashMap;

fn steps(v: Value) -> Vec<Step> {
    Chain::parse(&v).expect("chain").steps().to_vec()
}

/// A mixed chain: every kind of commuting step before the resize.
fn mixed(width: u32) -> Value {
    json!([
        {"op": "auto_orient"}, {"op": "flip", "direction": "horizontal"}, {"op": "rotate", "angle": 90},
        {"op": "crop", "width": 800, "height": 1000, "left": 50, "top": 100}, {"op": "brightness", "factor": 1.1},
        {"op": "resize", "width": width}, {"op": "sharpen"}, {"op": "encode", "format": "jpeg"}
    ])
}

/// The decoded size for `steps` on a `full` upright JPEG.
fn decoded(steps: &[Step], full: (u32, u32)) -> (u32, u32) {
    decode_hint(steps, full.0, full.1).map_or(full, |hint| jpeg_scale(full.0, full.1, hint))
}

/// The executor's loop on sizes alone: from `decoded`, every step through `adapt` while the
/// nominal size runs beside; checks that the resize still gets at least what it outputs.
fn output_size(steps: &[Step], full: (u32, u32), decoded: (u32, u32)) -> (u32, u32) {
    let (mut nominal, mut actual) = (full, decoded);
    for step in steps {
        let run = adapt(step, nominal, actual);
        let out = run.output_dims(actual.0, actual.1).expect("fits");
        if step.shrink() == Shrink::Scale && nominal != actual {
            assert!(actual.0 >= out.0 && actual.1 >= out.1, "{actual:?} is too small for {out:?} ({step:?})");
        }
        (nominal, actual) = (step.output_dims(nominal.0, nominal.1).expect("fits"), out);
    }
    assert_eq!(nominal, actual, "after the chain the nominal size is the real one");
    actual
}

#[test]
fn every_preset_and_chain_gives_the_same_output_size_at_any_decode_scale() {
    let sizes =
        [(8000, 6000), (6000, 8000), (4000, 3000), (4031, 3023), (3023, 4031), (1234, 5678), (5000, 5000), (2411, 1807), (1203, 905)];
    let mut chains: Vec<Vec<Step>> = presets::names().iter().filter_map(|n| presets::chain(n)).map(|c| c.steps().to_vec()).collect();
    chains.push(steps(mixed(200)));
    chains.push(steps(json!([{"op": "grayscale"}, {"op": "resize", "height": 333, "fit": "cover"}])));
    chains.push(steps(
        json!([{"op": "crop", "width": 700, "height": 500, "gravity": "south_east"}, {"op": "resize", "width": 101, "height": 77}]),
    ));
    chains.push(steps(
        json!([{"op": "rotate", "angle": 270}, {"op": "resize", "width": 99, "height": 400, "fit": "contain", "background": "#00000000"}]),
    ));
    for chain in &chains {
        for full in sizes {
            let reduced = decoded(chain, full);
            assert_eq!(output_size(chain, full, reduced), output_size(chain, full, full), "{chain:?} on {full:?} from {reduced:?}");
        }
    }
    let web = presets::chain("web").expect("web");
    assert_eq!(decoded(web.steps(), (8000, 6000)), (2000, 1500), "48 MP web at 1/4");
    assert_eq!(decoded(web.steps(), (4000, 3000)), (2000, 1500), "12 MP web at 1/2");
}

#[test]
fn the_hint_follows_turns_and_crops_back_to_the_original() {
    let resize = |w: u32| json!({"op": "resize", "width": w});
    assert_eq!(decode_hint(&steps(json!([resize(1600)])), 4000, 3000), Some((1600, 1200)));
    assert_eq!(decode_hint(&steps(json!([{"op": "auto_orient"}, {"op": "grayscale"}, resize(1600)])), 4000, 3000), Some((1600, 1200)));
    // Turned, the 1000 px wide result comes from the original's height.
    assert_eq!(decode_hint(&steps(json!([{"op": "rotate", "angle": 90}, resize(1000)])), 4000, 3000), Some((1333, 1000)));
    assert_eq!(decode_hint(&steps(json!([{"op": "rotate", "angle": 180}, resize(1000)])), 4000, 3000), Some((1000, 750)));
    // A quarter of the image, 500 px wide: the whole image must decode twice as large.
    let crop = json!({"op": "crop", "width": 2000, "height": 1500});
    assert_eq!(decode_hint(&steps(json!([crop, resize(500)])), 4000, 3000), Some((1000, 750)));
}

#[test]
fn barriers_and_chains_without_a_downscale_need_the_full_size() {
    let resize = json!({"op": "resize", "width": 400});
    for before in [
        json!({"op": "blur", "sigma": 2}),
        json!({"op": "sharpen"}),
        json!({"op": "pad", "top": 10}),
        json!({"op": "rotate", "angle": 45}),
        json!({"op": "auto_levels"}),
        json!({"op": "stretch"}),
        json!({"op": "auto_orient", "enabled": false}),
        json!({"op": "vignette"}),
    ] {
        assert_eq!(decode_hint(&steps(json!([before, resize])), 4000, 3000), None, "{before}");
    }
    assert_eq!(decode_hint(&steps(json!([{"op": "grayscale"}])), 4000, 3000), None, "no resize");
    assert_eq!(decode_hint(&steps(json!([{"op": "resize", "width": 5000}])), 4000, 3000), None, "upscale");
    assert_eq!(decode_hint(&steps(json!([{"op": "resize", "width": 3000, "height": 3000, "fit": "fill"}])), 4000, 3000), None);
    assert!(commutes(&steps(json!([{"op": "filter", "name": "lofi"}]))[0]));
    assert!(!commutes(&steps(json!([{"op": "oil"}]))[0]));
}

#[test]
fn adapt_scales_crops_and_fixes_the_first_resize() {
    let crop = CropParams { left: 0, top: 0, width: 400, height: 300, gravity: Some(crate::ops::canvas::Gravity::SouthEast) };
    let Step::Crop(c) = adapt(&Step::Crop(crop), (1000, 900), (250, 225)) else { panic!("a crop") };
    assert_eq!((c.left, c.top, c.width, c.height, c.gravity), (150, 150, 100, 75, None));
    let resize = &steps(json!([{"op": "resize", "width": 1600}]))[0];
    let Step::Resize(r) = adapt(resize, (4000, 3001), (1000, 751)) else { panic!("a resize") };
    assert_eq!((r.width, r.height), (Some(1600), Some(1200)), "the height the full size gives");
    assert_eq!(&adapt(resize, (4000, 3000), (4000, 3000)), resize, "unreduced: unchanged");
    let cover = &steps(json!([{"op": "resize", "width": 256, "height": 256, "fit": "cover"}]))[0];
    assert_eq!(&adapt(cover, (4000, 3000), (1000, 750)), cover, "cover already outputs its box");
}

/// A 4:3 "photo": smooth gradients, soft shapes and a little texture, as a JPEG.
fn photo(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let wave = ((fx * 9.0).sin() * (fy * 7.0).cos() * 60.0) as i32;
        let grain = ((x * 7 + y * 13) % 11) as i32 - 5;
        let c = |base: f32, k: i32| (base as i32 + wave * k / 2 + grain).clamp(0, 255) as u8;
        image::Rgb([c(200.0 * fx + 30.0, 2), c(180.0 * fy + 40.0, 1), c(120.0 + 80.0 * fx * fy, -1)])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92).encode_image(&img).expect("fixture");
    out
}

/// Decodes at `hint` and runs the chain (up to `encode`) the way the executor does.
fn run(steps: &[Step], jpeg: &[u8], hint: Option<(u32, u32)>) -> Raster {
    let max_pixels = 1 << 26;
    let opts = DecodeOptions { hint, max_pixels, max_alloc: 1 << 30, orient: true, keep_profile: false };
    let info = crate::format::probe(jpeg).expect("probe");
    let mut pixels = decode::decode(jpeg, &info, &opts, false).expect("decodes").into_raster();
    let (aux, mut nominal) = (HashMap::new(), (info.width, info.height));
    for step in steps.iter().filter(|s| !matches!(s, Step::Encode(_))) {
        let adapted = adapt(step, nominal, (pixels.width, pixels.height));
        nominal = step.output_dims(nominal.0, nominal.1).expect("fits");
        pixels = adapted.apply(pixels, &ApplyCtx { aux: &aux, max_pixels }).expect("runs");
    }
    pixels
}

#[test]
fn reduced_decodes_give_the_same_size_and_nearly_the_same_pixels() {
    let jpeg = photo(2411, 1807);
    let mut chains: Vec<(&str, Vec<Step>)> =
        ["thumbnail", "avatar"].iter().map(|&n| (n, presets::chain(n).expect("preset").steps().to_vec())).collect();
    chains.push(("mixed", steps(mixed(200))));
    chains.push((
        "point ops",
        steps(json!([{"op": "sepia"}, {"op": "gamma", "gamma": 1.4}, {"op": "filter", "name": "lofi"}, {"op": "resize", "width": 300}])),
    ));
    for (name, chain) in chains {
        let hint = decode_hint(&chain, 2411, 1807);
        let reduced_dims = jpeg_scale(2411, 1807, hint.expect("a reduced decode"));
        assert!(reduced_dims.0 <= 1206, "{name}: decoded at {reduced_dims:?}");
        let (full, reduced) = (run(&chain, &jpeg, None), run(&chain, &jpeg, hint));
        assert_eq!((reduced.width, reduced.height, reduced.layout), (full.width, full.height, full.layout), "{name}");
        let diff: u64 = full.pixels.iter().zip(&reduced.pixels).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
        let mean = diff as f64 / full.pixels.len() as f64;
        assert!(mean < 2.0, "{name}: mean abs difference {mean:.2}");
    }
}
