//! Golden pixel checks for crop, flip and pad; gravity placement; parameter errors.

use super::*;
use crate::chain::Chain;
use crate::plan::Limits;
use crate::raster::Layout;
use crate::session::run_chain;
use serde_json::json;
use std::collections::HashMap;

fn ctx_apply<T: Operation>(op: &T, r: Raster) -> Result<Raster, ImageError> {
    op.apply(r, &ApplyCtx { aux: &HashMap::new(), max_pixels: 1 << 20 })
}

/// `w × h` gray image whose pixels count 0, 1, 2, … in reading order.
fn counting(w: u32, h: u32) -> Raster {
    Raster::new(w, h, Layout::Luma8, (0..(w * h) as u8).collect()).expect("raster")
}

fn parse<T: Operation>(v: serde_json::Value) -> Result<T, FieldError> {
    let map = v.as_object().expect("object").clone();
    let mut f = Fields::new(&map);
    let p = T::parse(&mut f)?;
    f.finish()?;
    Ok(p)
}

#[test]
fn crop_cuts_the_window_exactly() {
    // 0  1  2  3
    // 4  5  6  7
    // 8  9 10 11
    let p: CropParams = parse(json!({"left": 1, "top": 1, "width": 2, "height": 2})).expect("params");
    assert_eq!(p.output_dims(4, 3), Ok((2, 2)));
    let out = ctx_apply(&p, counting(4, 3)).expect("crop");
    assert_eq!((out.width, out.height, out.pixels), (2, 2, vec![5, 6, 9, 10]));
}

#[test]
fn crop_keeps_every_channel_of_rgb() {
    let src = Raster::new(3, 1, Layout::Rgb8, (0..9).collect()).expect("raster");
    let p: CropParams = parse(json!({"left": 2, "width": 1, "height": 1})).expect("params");
    assert_eq!(ctx_apply(&p, src).expect("crop").pixels, [6, 7, 8]);
}

#[test]
fn crop_by_gravity_places_the_window() {
    let center: CropParams = parse(json!({"width": 2, "height": 2, "gravity": "center"})).expect("params");
    assert_eq!(ctx_apply(&center, counting(4, 4)).expect("crop").pixels, [5, 6, 9, 10]);
    let se: CropParams = parse(json!({"width": 1, "height": 1, "gravity": "south_east"})).expect("params");
    assert_eq!(ctx_apply(&se, counting(4, 4)).expect("crop").pixels, [15]);
}

#[test]
fn a_crop_outside_the_image_is_an_invalid_chain_naming_the_problem() {
    let p: CropParams = parse(json!({"left": 3, "top": 0, "width": 2, "height": 1})).expect("params");
    let err = p.output_dims(4, 3).unwrap_err();
    assert_eq!(err.code(), "invalid_chain");
    assert!(err.to_string().contains("width"), "{err}");
    assert_eq!(ctx_apply(&p, counting(4, 3)).unwrap_err().code(), "invalid_chain");
    let tall: CropParams = parse(json!({"width": 1, "height": 9, "gravity": "north"})).expect("params");
    assert_eq!(tall.output_dims(4, 3).unwrap_err().code(), "invalid_chain");
}

#[test]
fn an_impossible_crop_fails_the_task_at_run_time_with_invalid_chain() {
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(10, 10))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageOutputFormat::Png)
        .expect("fixture");
    let chain = Chain::parse(&json!([{"op": "crop", "left": 5, "top": 5, "width": 6, "height": 2}])).expect("chain parses");
    let err = run_chain(&chain, png, Limits { max_pixels: 1 << 20, memory_budget: 1 << 30 }, &HashMap::new()).unwrap_err();
    assert_eq!(err.code(), "invalid_chain");
}

#[test]
fn crop_params_are_rejected_by_name() {
    assert_eq!(parse::<CropParams>(json!({"height": 2})).unwrap_err().field, "width");
    assert_eq!(parse::<CropParams>(json!({"width": 0, "height": 2})).unwrap_err().field, "width");
    assert_eq!(parse::<CropParams>(json!({"width": 1, "height": 2, "top": -1})).unwrap_err().field, "top");
    let both = json!({"width": 1, "height": 2, "left": 1, "gravity": "center"});
    assert_eq!(parse::<CropParams>(both).unwrap_err().field, "gravity");
    assert_eq!(parse::<CropParams>(json!({"width": 1, "height": 2, "gravity": "up"})).unwrap_err().field, "gravity");
}

#[test]
fn flip_mirrors_in_each_direction() {
    // 0 1 2
    // 3 4 5
    let flip = |d: &str| ctx_apply(&parse::<FlipParams>(json!({"direction": d})).expect("params"), counting(3, 2)).expect("flip").pixels;
    assert_eq!(flip("horizontal"), [2, 1, 0, 5, 4, 3]);
    assert_eq!(flip("vertical"), [3, 4, 5, 0, 1, 2]);
    assert_eq!(flip("both"), [5, 4, 3, 2, 1, 0]);
    assert_eq!(parse::<FlipParams>(json!({})).unwrap_err().field, "direction");
    assert_eq!(parse::<FlipParams>(json!({"direction": "diagonal"})).unwrap_err().field, "direction");
}

#[test]
fn pad_surrounds_the_image_with_the_background() {
    let p: PadParams = parse(json!({"top": 1, "right": 1, "left": 2, "background": "#ffffff"})).expect("params");
    assert_eq!(p.output_dims(2, 1), Ok((5, 2)));
    assert_eq!(p.output_channels(1), 1);
    let src = Raster::new(2, 1, Layout::Luma8, vec![1, 2]).expect("raster");
    let out = ctx_apply(&p, src).expect("pad");
    assert_eq!((out.width, out.height), (5, 2));
    assert_eq!(out.pixels, [255, 255, 255, 255, 255, 255, 255, 1, 2, 255]);
}

#[test]
fn pad_with_a_see_through_colour_adds_alpha() {
    let p: PadParams = parse(json!({"bottom": 1, "background": "#11223300"})).expect("params");
    assert_eq!(p.output_channels(3), 4);
    let src = Raster::new(1, 1, Layout::Rgb8, vec![9, 8, 7]).expect("raster");
    let out = ctx_apply(&p, src).expect("pad");
    assert_eq!((out.layout, out.pixels), (Layout::Rgba8, vec![9, 8, 7, 255, 0x11, 0x22, 0x33, 0]));
}

#[test]
fn pad_beyond_the_largest_side_is_refused() {
    let p: PadParams = parse(json!({"left": MAX_DIMENSION})).expect("params");
    assert_eq!(p.output_dims(10, 10).unwrap_err().code(), "invalid_chain");
    assert_eq!(parse::<PadParams>(json!({"left": -1})).unwrap_err().field, "left");
    assert_eq!(parse::<PadParams>(json!({"background": "red"})).unwrap_err().field, "background");
}

#[test]
fn gravity_places_boxes_at_edges_and_centre_with_inward_offsets() {
    let at = |g| Gravity::place(g, (10, 8), (4, 2), (1, 1));
    assert_eq!(at(Gravity::NorthWest), (1, 1));
    assert_eq!(at(Gravity::North), (4, 1));
    assert_eq!(at(Gravity::NorthEast), (5, 1));
    assert_eq!(at(Gravity::West), (1, 4));
    assert_eq!(at(Gravity::Center), (4, 4));
    assert_eq!(at(Gravity::East), (5, 4));
    assert_eq!(at(Gravity::SouthWest), (1, 5));
    assert_eq!(at(Gravity::South), (4, 5));
    assert_eq!(at(Gravity::SouthEast), (5, 5));
    assert_eq!(Gravity::place(Gravity::Center, (2, 2), (5, 5), (0, 0)), (-2, -2), "a larger box overhangs");
}

#[test]
fn a_raster_whose_buffer_lies_is_refused_not_a_panic() {
    let bad = Raster { width: 4, height: 4, layout: Layout::Rgb8, pixels: vec![0; 5] };
    let crop: CropParams = parse(json!({"width": 2, "height": 2})).expect("params");
    assert_eq!(ctx_apply(&crop, bad).unwrap_err().code(), "invalid_image");
}

#[test]
fn a_crop_gives_back_the_memory_of_what_it_cut_away() {
    // The next steps are planned on the window: the input's buffer must not stay behind it.
    let p: CropParams = parse(json!({"width": 10, "height": 10, "gravity": "center"})).expect("params");
    let out = ctx_apply(&p, Raster::new(1000, 1000, Layout::Rgb8, vec![7; 3_000_000]).expect("raster")).expect("crop");
    assert_eq!(out.pixels.len(), 300);
    assert!(out.pixels.capacity() < 1024, "the cut window still holds {} bytes", out.pixels.capacity());
}
