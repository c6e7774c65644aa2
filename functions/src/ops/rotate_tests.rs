//! Quarter turns are exact pixel moves; other angles enlarge the canvas and fill the corners.

use super::*;
use crate::params::Fields;
use crate::raster::Layout;
use serde_json::json;
use std::collections::HashMap;

fn rotate(angle: f64, background: Option<&str>, r: Raster) -> Result<Raster, ImageError> {
    let mut v = json!({"angle": angle});
    if let Some(bg) = background {
        v["background"] = json!(bg);
    }
    let p = parse(v).expect("params");
    p.apply(r, &ApplyCtx { aux: &HashMap::new(), max_pixels: 1 << 20 })
}

fn parse(v: serde_json::Value) -> Result<RotateParams, FieldError> {
    let map = v.as_object().expect("object").clone();
    RotateParams::parse(&mut Fields::new(&map))
}

/// 3×2 gray image with pixels 0..6 in reading order.
fn sample() -> Raster {
    Raster::new(3, 2, Layout::Luma8, (0..6).collect()).expect("raster")
}

#[test]
fn quarter_turns_are_exact() {
    // 0 1 2   clockwise:  3 0
    // 3 4 5               4 1
    //                     5 2
    let r90 = rotate(90.0, None, sample()).expect("rotate");
    assert_eq!((r90.width, r90.height, r90.layout), (2, 3, Layout::Luma8), "no alpha added");
    assert_eq!(r90.pixels, [3, 0, 4, 1, 5, 2]);
    assert_eq!(rotate(180.0, None, sample()).expect("rotate").pixels, [5, 4, 3, 2, 1, 0]);
    assert_eq!(rotate(270.0, None, sample()).expect("rotate").pixels, [2, 5, 1, 4, 0, 3]);
    assert_eq!(rotate(-90.0, None, sample()).expect("rotate").pixels, [2, 5, 1, 4, 0, 3]);
    assert_eq!(rotate(360.0, None, sample()).expect("rotate"), sample());
    assert_eq!(rotate(0.0, None, sample()).expect("rotate"), sample());
}

#[test]
fn forty_five_degrees_enlarges_the_canvas_and_leaves_transparent_corners() {
    let src = Raster::new(100, 60, Layout::Rgb8, [200, 10, 10].repeat(6000)).expect("raster");
    let p = parse(json!({"angle": 45})).expect("params");
    // (100 + 60) · cos 45° = 113.14 → 114 on both sides.
    assert_eq!(p.output_dims(100, 60), Ok((114, 114)));
    assert_eq!(p.output_channels(3), 4);
    let out = rotate(45.0, None, src).expect("rotate");
    assert_eq!((out.width, out.height, out.layout), (114, 114, Layout::Rgba8));
    let px = |x: usize, y: usize| out.pixels[(y * 114 + x) * 4..][..4].to_vec();
    for (x, y) in [(0, 0), (113, 0), (0, 113), (113, 113)] {
        assert_eq!(px(x, y)[3], 0, "corner {x},{y} is background");
    }
    assert_eq!(px(57, 57), [200, 10, 10, 255], "the centre is the image");
}

#[test]
fn an_opaque_background_fills_the_corners_without_adding_alpha() {
    let src = Raster::new(40, 40, Layout::Rgb8, vec![255; 4800]).expect("raster");
    let out = rotate(30.0, Some("#00ff00"), src).expect("rotate");
    assert_eq!(out.layout, Layout::Rgb8);
    assert_eq!(&out.pixels[..3], &[0, 255, 0]);
    let mid = ((out.height as usize / 2) * out.width as usize + out.width as usize / 2) * 3;
    assert_eq!(&out.pixels[mid..mid + 3], &[255, 255, 255]);
}

#[test]
fn gray_with_alpha_stays_gray_with_alpha() {
    let src = Raster::new(8, 8, Layout::LumaA8, [90, 255].repeat(64)).expect("raster");
    let out = rotate(10.0, None, src).expect("rotate");
    assert_eq!(out.layout, Layout::LumaA8);
    let (w, h) = parse(json!({"angle": 10})).expect("params").output_dims(8, 8).expect("dims");
    assert_eq!((out.width, out.height), (w, h));
}

#[test]
fn a_turn_too_large_for_the_canvas_is_an_invalid_chain() {
    let p = parse(json!({"angle": 45})).expect("params");
    assert_eq!(p.output_dims(16_000, 16_000).unwrap_err().code(), "invalid_chain");
}

#[test]
fn angle_is_required_and_bounded_by_name() {
    assert_eq!(parse(json!({})).unwrap_err().field, "angle");
    assert_eq!(parse(json!({"angle": 400})).unwrap_err().field, "angle");
    assert_eq!(parse(json!({"angle": "90"})).unwrap_err().field, "angle");
    assert_eq!(parse(json!({"angle": 5, "background": "#12"})).unwrap_err().field, "background");
}
