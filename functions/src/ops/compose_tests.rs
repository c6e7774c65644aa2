//! The watermark lands where its gravity says, blends by opacity, keeps the input's channels.

use super::*;
use crate::params::Fields;
use serde_json::json;
use std::collections::HashMap;
use std::io::Cursor;

const ID: &str = "img_0123456789abcdef0123456789abcdef";

fn png(img: image::DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageOutputFormat::Png).expect("fixture");
    out
}

/// A solid white `w × h` watermark, PNG-encoded.
fn white(w: u32, h: u32) -> Vec<u8> {
    png(image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]))))
}

fn parse(v: serde_json::Value) -> Result<WatermarkParams, FieldError> {
    let map = v.as_object().expect("object").clone();
    WatermarkParams::parse(&mut Fields::new(&map))
}

fn run(params: serde_json::Value, dst: Raster, mark: Vec<u8>) -> Result<Raster, ImageError> {
    let aux = HashMap::from([(ID.to_string(), mark)]);
    parse(params).expect("params").apply(dst, &ApplyCtx { aux: &aux, max_pixels: 1 << 24 })
}

fn black(w: u32, h: u32) -> Raster {
    Raster::new(w, h, Layout::Rgb8, vec![0; (w * h * 3) as usize]).expect("raster")
}

/// Top-left corner and size of the non-black region of an RGB raster.
fn marked_box(r: &Raster) -> Option<(u32, u32, u32, u32)> {
    let lit: Vec<(u32, u32)> = (0..r.height)
        .flat_map(|y| (0..r.width).map(move |x| (x, y)))
        .filter(|&(x, y)| r.pixels[((y * r.width + x) * 3) as usize] != 0)
        .collect();
    let (x0, y0) = (lit.iter().map(|p| p.0).min()?, lit.iter().map(|p| p.1).min()?);
    let (x1, y1) = (lit.iter().map(|p| p.0).max()?, lit.iter().map(|p| p.1).max()?);
    Some((x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}

#[test]
fn each_gravity_puts_the_watermark_where_expected() {
    // Offsets are margins from the edges the watermark touches; on a centred axis they shift it
    // right/down.
    let expected = [
        ("north_west", (1, 1)),
        ("north", (9, 1)),
        ("north_east", (15, 1)),
        ("west", (1, 5)),
        ("center", (9, 5)),
        ("east", (15, 5)),
        ("south_west", (1, 7)),
        ("south", (9, 7)),
        ("south_east", (15, 7)),
    ];
    for (gravity, (x, y)) in expected {
        let p = json!({"image": ID, "gravity": gravity, "opacity": 1, "offset_x": 1, "offset_y": 1});
        let out = run(p, black(20, 10), white(4, 2)).expect(gravity);
        assert_eq!(marked_box(&out), Some((x, y, 4, 2)), "{gravity}");
        assert!(out.pixels.iter().all(|&v| v == 0 || v == 255), "{gravity}: opacity 1 copies exactly");
    }
}

#[test]
fn half_opacity_blends_half_way() {
    let out = run(json!({"image": ID, "gravity": "north_west"}), black(4, 4), white(2, 2)).expect("watermark");
    assert_eq!(&out.pixels[..3], &[128, 128, 128], "default opacity 0.5");
    assert_eq!(&out.pixels[6..9], &[0, 0, 0], "outside the watermark");
}

#[test]
fn the_output_keeps_the_inputs_channels() {
    let gray = Raster::new(4, 4, Layout::Luma8, vec![0; 16]).expect("raster");
    let out = run(json!({"image": ID, "opacity": 1}), gray, white(2, 2)).expect("watermark");
    assert_eq!((out.layout, out.pixels[15]), (Layout::Luma8, 255));
    let clear = Raster::new(2, 2, Layout::Rgba8, vec![0; 16]).expect("raster");
    let out = run(json!({"image": ID, "opacity": 1}), clear, white(1, 1)).expect("watermark");
    assert_eq!((out.layout, &out.pixels[12..]), (Layout::Rgba8, &[255u8, 255, 255, 255][..]));
    assert_eq!(&out.pixels[..4], &[0, 0, 0, 0], "untouched pixels stay transparent");
}

#[test]
fn transparent_parts_of_the_watermark_leave_the_image_alone() {
    let mark = png(image::DynamicImage::ImageRgba8(image::RgbaImage::from_fn(2, 1, |x, _| {
        image::Rgba([255, 255, 255, if x == 0 { 0 } else { 255 }])
    })));
    let out = run(json!({"image": ID, "opacity": 1, "gravity": "north_west"}), black(2, 1), mark).expect("watermark");
    assert_eq!(out.pixels, [0, 0, 0, 255, 255, 255]);
}

#[test]
fn scale_sizes_the_watermark_to_a_fraction_of_the_width() {
    let down = run(json!({"image": ID, "opacity": 1, "scale": 0.1}), black(40, 20), white(8, 4)).expect("down");
    assert_eq!(marked_box(&down), Some((36, 18, 4, 2)));
    let up = run(json!({"image": ID, "opacity": 1, "scale": 0.5}), black(40, 20), white(8, 4)).expect("up");
    assert_eq!(marked_box(&up), Some((20, 10, 20, 10)));
}

#[test]
fn a_missing_watermark_is_an_invalid_image_naming_it() {
    let p = parse(json!({"image": ID})).expect("params");
    let err = p.apply(black(4, 4), &ApplyCtx { aux: &HashMap::new(), max_pixels: 1 << 20 }).unwrap_err();
    assert_eq!(err.code(), "invalid_image");
    assert!(err.to_string().contains(ID) && err.to_string().contains("missing"), "{err}");
}

#[test]
fn an_oversized_watermark_is_too_large() {
    let err = run(json!({"image": ID}), black(4, 4), white(2049, 1025)).unwrap_err();
    assert_eq!(err.code(), "image_too_large");
    assert!(err.to_string().contains("watermark"), "{err}");
}

#[test]
fn aux_images_lists_the_id_for_the_worker_to_check() {
    assert_eq!(parse(json!({"image": ID})).expect("params").aux_images(), [ID]);
}

#[test]
fn params_are_rejected_by_name() {
    for bad in
        ["img_0123", "IMG_0123456789abcdef0123456789abcdef", "img_0123456789ABCDEF0123456789abcdef", "img_0123456789abcdef0123456789abcdeg"]
    {
        assert_eq!(parse(json!({"image": bad})).unwrap_err().field, "image", "{bad}");
    }
    assert_eq!(parse(json!({})).unwrap_err().field, "image");
    assert_eq!(parse(json!({"image": ID, "opacity": 1.5})).unwrap_err().field, "opacity");
    assert_eq!(parse(json!({"image": ID, "scale": 0})).unwrap_err().field, "scale");
    assert_eq!(parse(json!({"image": ID, "gravity": "top"})).unwrap_err().field, "gravity");
    assert_eq!(parse(json!({"image": ID, "offset_x": -3})).unwrap_err().field, "offset_x");
}

#[test]
fn blend_over_a_transparent_pixel_takes_the_colour() {
    let mut px = [0u8, 0, 0, 0];
    blend(&mut px, Layout::Rgba8, [200, 100, 50], 128);
    assert_eq!(px, [200, 100, 50, 128]);
    let mut gray = [0u8];
    blend(&mut gray, Layout::Luma8, [255, 255, 255], 255);
    assert_eq!(gray, [255]);
}

#[test]
fn a_watermark_stored_larger_than_its_cap_is_too_large_with_the_figures() {
    // A 2x2 PNG padded to 9 MiB: within the pixel cap, far beyond what the planner counts.
    let mut padded = white(2, 2);
    padded.resize(9 << 20, 0);
    let err = run(json!({"image": ID}), black(4, 4), padded).unwrap_err();
    assert_eq!(err.code(), "image_too_large");
    let text = err.to_string();
    assert!(text.contains(ID) && text.contains(&(9u64 << 20).to_string()) && text.contains(&WATERMARK_MAX_BYTES.to_string()), "{text}");
    assert!(check_stored_size(ID, WATERMARK_MAX_BYTES).is_ok(), "the cap itself is allowed");
}

#[test]
fn the_planner_counts_the_stored_watermark_beside_its_work() {
    let p = parse(json!({"image": ID})).expect("params");
    assert!(p.extra_bytes(Shape::new(1, 1, 4), Shape::new(1, 1, 4)) >= WATERMARK_MAX_BYTES + 4 * 4 * WATERMARK_MAX_PIXELS);
}
