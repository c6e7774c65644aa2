//! The caption changes pixels inside its box only, in its colour, wherever it is placed.

use super::*;
use crate::params::Fields;
use crate::raster::Layout;
use serde_json::json;
use std::collections::HashMap;

fn parse(v: serde_json::Value) -> Result<TextParams, FieldError> {
    let map = v.as_object().expect("object").clone();
    TextParams::parse(&mut Fields::new(&map))
}

fn white(w: u32, h: u32) -> Raster {
    Raster::new(w, h, Layout::Rgb8, vec![255; (w * h * 3) as usize]).expect("raster")
}

fn draw(p: &TextParams, r: Raster) -> Raster {
    p.apply(r, &ApplyCtx { aux: &HashMap::new(), max_pixels: 1 << 20 }).expect("text")
}

/// Coordinates of every pixel that differs between two same-sized RGB rasters.
fn changed(a: &Raster, b: &Raster) -> Vec<(i64, i64)> {
    (0..a.height as i64)
        .flat_map(|y| (0..a.width as i64).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let i = ((y * a.width as i64 + x) * 3) as usize;
            a.pixels[i..i + 3] != b.pixels[i..i + 3]
        })
        .collect()
}

#[test]
fn text_changes_pixels_inside_its_box_and_nowhere_else() {
    let p = parse(json!({"text": "Hello, Ag!", "size": 20, "color": "#000000", "x": 5, "y": 3})).expect("params");
    let out = draw(&p, white(160, 40));
    let (left, top, w, h) = p.text_box(160, 40).expect("box");
    assert_eq!((left, top), (5, 3));
    let diff = changed(&out, &white(160, 40));
    assert!(diff.len() > 50, "the caption is drawn ({} pixels)", diff.len());
    for (x, y) in diff {
        assert!(x >= left && x < left + i64::from(w) && y >= top && y < top + i64::from(h), "{x},{y} outside the box");
    }
}

#[test]
fn gravity_and_offsets_place_the_box() {
    let p = parse(json!({"text": "caption", "size": 16, "gravity": "south_east", "x": 4, "y": 2})).expect("params");
    let (left, top, w, h) = p.text_box(200, 100).expect("box");
    assert_eq!((left + i64::from(w), top + i64::from(h)), (196, 98));
    let c = parse(json!({"text": "caption", "size": 16, "gravity": "center"})).expect("params");
    let (left, _, w, _) = c.text_box(200, 100).expect("box");
    assert!((left + i64::from(w) / 2 - 100).abs() <= 1);
}

#[test]
fn the_colour_is_honoured() {
    let p = parse(json!({"text": "RED", "size": 24, "color": "#ff0000"})).expect("params");
    let out = draw(&p, white(80, 30));
    let darkest = out.pixels.chunks_exact(3).min_by_key(|px| px[1]).expect("pixels");
    assert_eq!(darkest, [255, 0, 0], "fully covered pixels are pure red");
}

#[test]
fn text_partly_or_wholly_outside_the_image_does_not_panic() {
    for v in [
        json!({"text": "far away", "x": -16384, "y": -16384}),
        json!({"text": "far away", "x": 16384, "y": 16384}),
        json!({"text": "W".repeat(200), "size": 512, "gravity": "center"}),
        json!({"text": "edge", "size": 40, "x": -10, "y": -10}),
    ] {
        let p = parse(v.clone()).expect("params");
        let out = draw(&p, white(12, 9));
        assert_eq!((out.width, out.height), (12, 9), "{v}");
    }
    let far = parse(json!({"text": "far", "x": -5000})).expect("params");
    assert_eq!(draw(&far, white(12, 9)), white(12, 9), "nothing lands on the image");
}

#[test]
fn gray_and_alpha_layouts_are_drawn_in_place() {
    let p = parse(json!({"text": "g", "size": 20, "color": "#000000"})).expect("params");
    let gray = Raster::new(20, 20, Layout::Luma8, vec![255; 400]).expect("raster");
    let out = draw(&p, gray);
    assert_eq!(out.layout, Layout::Luma8);
    assert!(out.pixels.iter().any(|&v| v < 128));
    let clear = Raster::new(20, 20, Layout::Rgba8, vec![0; 1600]).expect("raster");
    let out = draw(&p, clear);
    assert!(out.pixels.chunks_exact(4).any(|px| px[3] == 255), "covered pixels become opaque");
}

#[test]
fn params_are_rejected_by_name() {
    assert_eq!(parse(json!({})).unwrap_err().field, "text");
    assert_eq!(parse(json!({"text": ""})).unwrap_err().field, "text");
    assert_eq!(parse(json!({"text": "a".repeat(201)})).unwrap_err().field, "text");
    assert_eq!(parse(json!({"text": "two\nlines"})).unwrap_err().field, "text");
    assert_eq!(parse(json!({"text": "a", "size": 2})).unwrap_err().field, "size");
    assert_eq!(parse(json!({"text": "a", "color": "white"})).unwrap_err().field, "color");
    assert_eq!(parse(json!({"text": "a", "x": 99999})).unwrap_err().field, "x");
    assert_eq!(parse(json!({"text": "a", "gravity": "middle"})).unwrap_err().field, "gravity");
}
