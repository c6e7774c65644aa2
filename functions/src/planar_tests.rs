//! The planar path gives what the RGB path gives: same sizes, pixels within rounding, and the
//! intermediate form round-trips; steps that need RGB get RGB.

use super::*;
use crate::decode::DecodeOptions;
use crate::format::Format;
use crate::ops::resize::{Filter, Fit, ResizeParams};
use crate::plan::Limits;
use crate::session::{run_chain, Session};
use crate::Chain;
use serde_json::json;
use std::collections::HashMap;

/// Generous limits: these tests are about results, not refusals.
const LIMITS: Limits = Limits { max_pixels: 1 << 24, memory_budget: 1 << 30 };

/// A 4:2:0 baseline JPEG (our encoder below quality 90) of a smooth colour card.
fn photo(width: usize, height: usize) -> Vec<u8> {
    let px: Vec<u8> = (0..width * height)
        .flat_map(|i| {
            let (x, y) = (i % width, i / width);
            [(x * 255 / width) as u8, (y * 255 / height) as u8, ((x + y) % 97 + 80) as u8]
        })
        .collect();
    crate::jpeg::encode::encode(&px, 3, width, height, 85)
}

fn opts() -> DecodeOptions {
    DecodeOptions { hint: Some((200, 150)), max_pixels: 1 << 24, max_alloc: 1 << 30, orient: true, keep_profile: false }
}

fn shrink_to(w: u32, h: u32) -> DecodeOptions {
    DecodeOptions { hint: Some((w, h)), ..opts() }
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse = a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum::<f64>() / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
}

#[test]
fn a_shrinking_jpeg_decodes_to_planes_only_for_steps_that_take_them() {
    let jpeg = photo(403, 301);
    let planar = crate::raster::load_pixels(jpeg.clone(), &opts(), true).expect("decode");
    let Pixels::Planar(p) = &planar else { panic!("expected planes, got a raster") };
    assert_eq!((p.width, p.height), (202, 151), "1/2 scale, rounded up");
    assert_eq!((p.cb.len(), p.cr.len()), (101 * 76, 101 * 76));
    let raster = crate::raster::load_pixels(jpeg, &opts(), false).expect("decode");
    let Pixels::Raster(r) = raster else { panic!("expected a raster") };
    // The same decode, converted: identical to what the planes turn into.
    assert_eq!(planar.into_raster(), r);
}

#[test]
fn planes_round_trip_through_the_intermediate_form() {
    let Pixels::Planar(p) = crate::raster::load_pixels(photo(64, 48), &shrink_to(16, 12), true).expect("decode") else {
        panic!("expected planes")
    };
    let bytes = Pixels::Planar(p.clone()).to_bytes();
    assert_eq!(crate::raster::load_pixels(bytes.clone(), &opts(), true).expect("load"), Pixels::Planar(p.clone()));
    assert_eq!(crate::raster::load(bytes.clone(), &opts()).expect("load"), p.into_raster(), "RGB for other steps");
    let truncated = bytes[..bytes.len() - 1].to_vec();
    assert_eq!(crate::raster::load(truncated, &opts()).unwrap_err().code(), "invalid_image");
}

#[test]
fn resize_then_jpeg_through_planes_matches_the_rgb_path() {
    let jpeg = photo(800, 600);
    let chain = Chain::parse(&json!([{"op": "resize", "width": 320}, {"op": "encode", "format": "jpeg", "quality": 80}])).expect("chain");
    let mut session = Session::start(chain.steps(), Format::Jpeg, LIMITS, jpeg.clone(), 0);
    assert_eq!(session.run_next(&HashMap::new()).expect("resize"), (320, 240));
    let checkpoint = session.checkpoint().expect("a checkpoint after the resize");
    assert_eq!(checkpoint[4], crate::raster::PLANAR_TAG, "the resize kept planes");
    let out = run_chain(&chain, jpeg.clone(), LIMITS, &HashMap::new()).expect("chain");
    // The RGB path: decode and resize a raster (the reference, before any re-encoding).
    let reference = {
        let r = crate::raster::load(jpeg, &DecodeOptions { hint: Some((320, 240)), ..opts() }).expect("decode");
        let p = ResizeParams {
            width: Some(320),
            height: None,
            fit: Fit::Inside,
            filter: Filter::Lanczos3,
            background: [0; 4],
            gravity: Default::default(),
        };
        crate::ops::resize::resize(r, &p).expect("resize")
    };
    let ours = crate::raster::load(out.bytes, &opts()).expect("decode the output");
    assert_eq!((ours.width, ours.height), (320, 240));
    let p = psnr(&ours.pixels, &reference.pixels);
    assert!(p > 35.0, "planar output vs RGB resize: PSNR {p:.1} dB");
}

#[test]
fn a_step_that_needs_rgb_after_a_planar_resize_gets_rgb() {
    let chain =
        Chain::parse(&json!([{"op": "resize", "width": 100}, {"op": "grayscale"}, {"op": "encode", "format": "png"}])).expect("chain");
    let out = run_chain(&chain, photo(400, 300), LIMITS, &HashMap::new()).expect("chain");
    let back = crate::raster::load(out.bytes, &opts()).expect("png decodes");
    assert_eq!((back.width, back.height, back.layout), (100, 75, crate::raster::Layout::Luma8));
}
