//! Tests of running steps and whole chains.

use super::*;
use crate::chain::Chain;
use serde_json::json;

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 200]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).expect("fixture");
    out
}

fn run(chain: serde_json::Value, input: Vec<u8>) -> Result<StepOutput, ImageError> {
    run_chain(&Chain::parse(&chain).expect("chain"), input, 1 << 24, &HashMap::new())
}

#[test]
fn resize_grayscale_png_chain_produces_a_gray_png_of_the_requested_width() {
    let out = run(json!([{"op":"resize","width":32},{"op":"grayscale"},{"op":"encode","format":"png"}]), jpeg(64, 48)).expect("runs");
    assert_eq!((out.width, out.height, out.format), (32, 24, Some(Format::Png)));
    let img = image::load_from_memory(&out.bytes).expect("decodes");
    assert_eq!(img.color(), image::ColorType::L8);
}

#[test]
fn chain_without_encode_keeps_the_source_format() {
    let out = run(json!([{"op":"resize","width":10}]), jpeg(20, 20)).expect("runs");
    assert_eq!((out.format, out.content_type), (Some(Format::Jpeg), "image/jpeg"));
}

#[test]
fn truncated_jpeg_fails_with_invalid_image() {
    let mut bytes = jpeg(64, 64);
    bytes.truncate(bytes.len() / 3);
    assert_eq!(run(json!([{"op":"grayscale"}]), bytes).unwrap_err().code(), "invalid_image");
}

#[test]
fn shrink_on_load_gives_the_requested_size_from_a_large_jpeg() {
    let out = run(json!([{"op":"resize","width":100},{"op":"encode","format":"jpeg","quality":80}]), jpeg(1600, 1200)).expect("runs");
    assert_eq!((out.width, out.height), (100, 75));
}
