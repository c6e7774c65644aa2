//! Placeholders: colours, aspect and ThumbHash of known images, the 1/8 JPEG decode, alpha,
//! and bad input refused with an error.

use super::*;
use image::ImageEncoder;

const LIMITS: Limits = Limits { max_pixels: 100_000_000, memory_budget: 96 << 20 };

/// A `w × h` RGB image: `main` everywhere but the right quarter, which is `side`.
fn two_tone(w: u32, h: u32, main: [u8; 3], side: [u8; 3]) -> Vec<u8> {
    (0..h).flat_map(|_| (0..w).flat_map(move |x| if x >= w * 3 / 4 { side } else { main })).collect()
}

fn jpeg(w: u32, h: u32, px: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95).write_image(px, w, h, image::ColorType::Rgb8).expect("jpeg");
    out
}

fn png(w: u32, h: u32, px: &[u8], colour: image::ColorType) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(px, w, h, colour).expect("png");
    out
}

fn channel(hex: &str, i: usize) -> i32 {
    i32::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).expect("hex")
}

fn near(hex: &str, rgb: [u8; 3], tolerance: i32) -> bool {
    hex.len() == 7 && (0..3).all(|i| (channel(hex, i) - i32::from(rgb[i])).abs() <= tolerance)
}

#[test]
fn a_photo_gets_its_colours_aspect_and_a_thumbhash_that_decodes() {
    let (main, side) = ([200, 40, 30], [20, 60, 220]);
    let p = compute(jpeg(1600, 1200, &two_tone(1600, 1200, main, side)), LIMITS).expect("placeholder");
    assert_eq!(p.aspect, 1.3333);
    assert!(near(&p.dominant_color, main, 6), "dominant {} is the red three quarters", p.dominant_color);
    let mean = [155, 45, 77]; // 3/4 main + 1/4 side
    assert!(near(&p.average_color, mean, 6), "average {}", p.average_color);
    let hash = STANDARD.decode(&p.thumbhash).expect("base64");
    let ratio = thumbhash::thumb_hash_to_approximate_aspect_ratio(&hash).expect("a ThumbHash");
    assert!((ratio - 4.0 / 3.0).abs() < 0.1, "the hash knows the shape: {ratio}");
    let (r, g, b, _) = thumbhash::thumb_hash_to_average_rgba(&hash).expect("a ThumbHash");
    assert!((r * 255.0 - 155.0).abs() < 12.0 && (b * 255.0 - 77.0).abs() < 12.0, "the hash's average: {r} {g} {b}");
}

#[test]
fn a_jpeg_is_decoded_at_one_eighth_scale() {
    let bytes = jpeg(1600, 1200, &two_tone(1600, 1200, [1, 2, 3], [4, 5, 6]));
    assert_eq!(plan(&bytes, LIMITS).expect("plan").decoded, (200, 150));
}

#[test]
fn a_transparent_png_weights_colours_by_alpha_and_keeps_its_portrait_aspect() {
    // Opaque green left half, fully transparent red right half.
    let px: Vec<u8> = (0..300).flat_map(|_| (0..200).flat_map(|x| if x < 100 { [0, 200, 0, 255] } else { [255, 0, 0, 0] })).collect();
    let p = compute(png(200, 300, &px, image::ColorType::Rgba8), LIMITS).expect("placeholder");
    assert_eq!(p.aspect, 0.6667);
    assert!(near(&p.average_color, [0, 200, 0], 2), "the invisible red does not count: {}", p.average_color);
    assert!(near(&p.dominant_color, [0, 200, 0], 2), "{}", p.dominant_color);
}

#[test]
fn a_gray_image_works_too() {
    let p = compute(png(30, 10, &[90u8; 300], image::ColorType::L8), LIMITS).expect("placeholder");
    assert_eq!((p.dominant_color.as_str(), p.average_color.as_str(), p.aspect), ("#5a5a5a", "#5a5a5a", 3.0));
}

#[test]
fn bad_input_is_an_error_never_a_panic() {
    assert!(compute(b"not an image at all".to_vec(), LIMITS).is_err());
    let mut truncated = jpeg(64, 64, &two_tone(64, 64, [9, 9, 9], [200, 200, 200]));
    truncated.truncate(truncated.len() / 3);
    let _ = compute(truncated, LIMITS);
    let tight = Limits { max_pixels: 1000, ..LIMITS };
    let err = compute(png(100, 100, &[0u8; 30_000], image::ColorType::Rgb8), tight).expect_err("over the pixel limit");
    assert_eq!(err.code(), "image_too_large");
}
