//! Golden pixels and parameter checks of the colour steps.

use super::*;
use crate::ops::grayscale::luma;
use crate::ops::tint::Tint;
use serde_json::{json, Value};

/// Parses `params` as step `T` (as the chain parser does), naming the field on error.
pub(crate) fn parse<T: Operation>(params: Value) -> Result<T, FieldError> {
    let map = params.as_object().cloned().unwrap_or_default();
    let mut f = Fields::new(&map);
    let step = T::parse(&mut f)?;
    f.finish()?;
    Ok(step)
}

pub(crate) fn run<T: Operation>(params: Value, src: Raster) -> Raster {
    let aux = std::collections::HashMap::new();
    parse::<T>(params).expect("params").apply(src, &ApplyCtx { aux: &aux, max_pixels: 1 << 30 }).expect("apply")
}

fn rgb(pixels: &[u8]) -> Raster {
    Raster::new((pixels.len() / 3) as u32, 1, Layout::Rgb8, pixels.to_vec()).expect("raster")
}

#[test]
fn invert_negates_colour_and_keeps_alpha() {
    assert_eq!(run::<Invert>(json!({}), rgb(&[0, 100, 255])).pixels, [255, 155, 0]);
    let rgba = Raster::new(1, 1, Layout::Rgba8, vec![10, 20, 30, 40]).expect("raster");
    assert_eq!(run::<Invert>(json!({}), rgba).pixels, [245, 235, 225, 40]);
    let la = Raster::new(1, 1, Layout::LumaA8, vec![1, 7]).expect("raster");
    assert_eq!(run::<Invert>(json!({}), la).pixels, [254, 7]);
}

#[test]
fn brightness_multiplies_and_clamps() {
    assert_eq!(run::<Brightness>(json!({"factor": 1.2}), rgb(&[100, 0, 250])).pixels, [120, 0, 255]);
    assert_eq!(run::<Brightness>(json!({}), rgb(&[1, 2, 3])).pixels, [1, 2, 3]);
    assert_eq!(run::<Brightness>(json!({"factor": 0}), rgb(&[1, 2, 3])).pixels, [0, 0, 0]);
}

#[test]
fn contrast_pivots_on_mid_gray() {
    assert_eq!(run::<Contrast>(json!({"factor": 1}), rgb(&[0, 77, 255])).pixels, [0, 77, 255]);
    assert_eq!(run::<Contrast>(json!({"factor": 0}), rgb(&[0, 77, 255])).pixels, [128, 128, 128]);
    assert_eq!(run::<Contrast>(json!({"factor": 1.5}), rgb(&[64, 128, 192, 250, 0, 255])).pixels, [32, 128, 224, 255, 0, 255]);
}

#[test]
fn saturation_zero_is_gray_and_one_is_identity() {
    let out = run::<Saturation>(json!({"factor": 0}), rgb(&[200, 40, 90]));
    assert!(out.pixels[0].abs_diff(out.pixels[1]) <= 1 && out.pixels[1].abs_diff(out.pixels[2]) <= 1, "{:?}", out.pixels);
    assert_eq!(run::<Saturation>(json!({"factor": 1}), rgb(&[200, 40, 90])).pixels, [200, 40, 90]);
    let more = run::<Saturation>(json!({"factor": 2}), rgb(&[150, 100, 100])).pixels;
    assert!(more[0] > 150 && more[1] < 100, "{more:?}");
    let gray = Raster::new(1, 1, Layout::Luma8, vec![9]).expect("raster");
    assert_eq!(run::<Saturation>(json!({"factor": 3}), gray.clone()), gray);
}

#[test]
fn hue_rotate_turns_red_towards_green_and_keeps_gray() {
    assert_eq!(run::<HueRotate>(json!({"degrees": 0}), rgb(&[200, 40, 90])).pixels, [200, 40, 90]);
    let full = run::<HueRotate>(json!({"degrees": 360}), rgb(&[200, 40, 90])).pixels;
    assert!(full.iter().zip([200, 40, 90]).all(|(a, b)| a.abs_diff(b) <= 1), "{full:?}");
    let turned = run::<HueRotate>(json!({"degrees": 120}), rgb(&[255, 0, 0])).pixels;
    assert!(turned[1] > turned[0] && turned[1] > turned[2], "{turned:?}");
    assert_eq!(run::<HueRotate>(json!({"degrees": 77}), rgb(&[90, 90, 90])).pixels, [90, 90, 90]);
    let gray = Raster::new(1, 1, Layout::LumaA8, vec![9, 3]).expect("raster");
    assert_eq!(run::<HueRotate>(json!({"degrees": 50}), gray.clone()), gray);
}

#[test]
fn sepia_matches_the_css_matrix_and_colours_gray() {
    assert_eq!(run::<Sepia>(json!({}), rgb(&[255, 255, 255, 0, 0, 0])).pixels, [255, 255, 239, 0, 0, 0]);
    assert_eq!(run::<Sepia>(json!({"amount": 0}), rgb(&[12, 200, 7])).pixels, [12, 200, 7]);
    let la = Raster::new(1, 1, Layout::LumaA8, vec![255, 9]).expect("raster");
    let out = run::<Sepia>(json!({"amount": 1}), la);
    assert_eq!((out.layout, out.pixels), (Layout::Rgba8, vec![255, 255, 239, 9]));
    let l = Raster::new(2, 1, Layout::Luma8, vec![0, 255]).expect("raster");
    assert_eq!(run::<Sepia>(json!({}), l).layout, Layout::Rgb8);
}

#[test]
fn tint_keeps_black_white_and_luminance() {
    let src = rgb(&[0, 0, 0, 255, 255, 255, 128, 128, 128]);
    let out = run::<Tint>(json!({"colour": "#ff0000", "strength": 1}), src.clone()).pixels;
    assert_eq!(out[..6], [0, 0, 0, 255, 255, 255]);
    let mid = &out[6..9];
    assert!(mid[0] > mid[1] && mid[1] == mid[2], "{mid:?}");
    assert!(luma(mid[0], mid[1], mid[2]).abs_diff(128) <= 2, "{mid:?}");
    assert_eq!(run::<Tint>(json!({"strength": 0}), src.clone()).pixels, src.pixels);
    let gray = Raster::new(1, 1, Layout::Luma8, vec![128]).expect("raster");
    assert_eq!(run::<Tint>(json!({}), gray).layout, Layout::Rgb8);
}

#[test]
fn out_of_range_parameters_name_their_field() {
    assert_eq!(parse::<Sepia>(json!({"amount": 2})).unwrap_err().field, "amount");
    assert_eq!(parse::<Brightness>(json!({"factor": -1})).unwrap_err().field, "factor");
    assert_eq!(parse::<Contrast>(json!({"factor": "x"})).unwrap_err().field, "factor");
    assert_eq!(parse::<Saturation>(json!({"factor": 11})).unwrap_err().field, "factor");
    assert_eq!(parse::<HueRotate>(json!({"degrees": 400})).unwrap_err().field, "degrees");
    assert_eq!(parse::<Tint>(json!({"colour": "red"})).unwrap_err().field, "colour");
    assert_eq!(parse::<Tint>(json!({"strength": 1.5})).unwrap_err().field, "strength");
    assert_eq!(parse::<Invert>(json!({"amount": 1})).unwrap_err().field, "amount");
}

#[test]
fn a_raster_whose_buffer_lies_about_its_size_is_refused() {
    let bad = Raster { width: 4, height: 4, layout: Layout::Rgb8, pixels: vec![0; 5] };
    let aux = std::collections::HashMap::new();
    let err = Invert {}.apply(bad, &ApplyCtx { aux: &aux, max_pixels: 1 }).unwrap_err();
    assert_eq!(err.code(), "invalid_image");
}
