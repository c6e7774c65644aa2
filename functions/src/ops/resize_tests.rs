//! Tests of `resize`: the fit modes' dimension math, padding, and gravity.

use super::*;

fn params(width: Option<u32>, height: Option<u32>, fit: Fit) -> ResizeParams {
    ResizeParams { width, height, fit, filter: Filter::Lanczos3, background: [0, 0, 0, 255], gravity: Gravity::Center }
}

#[test]
fn width_only_keeps_aspect_ratio() {
    assert_eq!(params(Some(1600), None, Fit::Inside).output_dims(4000, 3000), Ok((1600, 1200)));
    assert_eq!(params(None, Some(10), Fit::Inside).output_dims(300, 20), Ok((150, 10)));
}

#[test]
fn inside_fits_the_box_on_the_limiting_side() {
    assert_eq!(params(Some(100), Some(100), Fit::Inside).output_dims(400, 200), Ok((100, 50)));
    assert_eq!(params(Some(100), Some(100), Fit::Inside).output_dims(200, 400), Ok((50, 100)));
}

#[test]
fn tiny_results_never_reach_zero() {
    assert_eq!(params(Some(1), None, Fit::Inside).output_dims(10_000, 1), Ok((1, 1)));
}

#[test]
fn absurd_aspect_ratio_is_refused_not_overflowed() {
    let err = params(Some(16_384), None, Fit::Inside).output_dims(1, 16_384).unwrap_err();
    assert_eq!(err.code(), "invalid_chain");
}

#[test]
fn contain_pads_to_the_box_with_the_background() {
    let src = Raster::new(4, 2, Layout::Rgb8, vec![255; 24]).expect("raster");
    let p = ResizeParams { background: [0, 0, 255, 255], ..params(Some(4), Some(4), Fit::Contain) };
    let out = resize(src, &p).expect("resize");
    assert_eq!((out.width, out.height), (4, 4));
    assert_eq!(&out.pixels[..3], &[0, 0, 255], "top row is padding");
    assert_eq!(&out.pixels[12..15], &[255, 255, 255], "second row is image");
}

#[test]
fn cover_keeps_the_window_its_gravity_names() {
    // Left half black, right half white: west keeps black, east keeps white.
    let pixels: Vec<u8> = (0..20 * 10).flat_map(|i| if i % 20 < 10 { [0u8; 3] } else { [255u8; 3] }).collect();
    let src = Raster::new(20, 10, Layout::Rgb8, pixels).expect("raster");
    let cover = |gravity| resize(src.clone(), &ResizeParams { gravity, ..params(Some(5), Some(10), Fit::Cover) }).expect("resize");
    assert!(cover(Gravity::West).pixels.iter().all(|&v| v < 8), "west keeps the black half");
    assert!(cover(Gravity::East).pixels.iter().all(|&v| v > 247), "east keeps the white half");
}

#[test]
fn contain_places_the_image_at_its_gravity() {
    let src = Raster::new(4, 2, Layout::Rgb8, vec![255; 24]).expect("raster");
    let p = ResizeParams { gravity: Gravity::North, ..params(Some(4), Some(4), Fit::Contain) };
    let out = resize(src, &p).expect("resize");
    assert_eq!(&out.pixels[..3], &[255, 255, 255], "top row is image");
    assert_eq!(&out.pixels[36..39], &[0, 0, 0], "bottom row is padding");
}

#[test]
fn cover_fills_the_box_exactly() {
    let src = Raster::new(40, 20, Layout::Rgba8, vec![9; 3200]).expect("raster");
    let out = resize(src, &params(Some(10), Some(10), Fit::Cover)).expect("resize");
    assert_eq!((out.width, out.height, out.pixels.len()), (10, 10, 400));
}
