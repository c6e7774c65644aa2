//! A corpus of corrupt, truncated, lying and bomb inputs, generated deterministically from valid
//! fixtures of every input format: none may panic, and each gets a stable error code (or decodes).
//!
//! Each input goes through what an upload and a chain do: `probe` (upload), then `run_chain`
//! with a shrink-on-load resize and with a full-decode step.

use functions::format::probe;
use functions::plan::Limits;
use functions::session::run_chain;
use functions::Chain;
use serde_json::json;
use std::collections::HashMap;
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

/// The codes a broken input may get; anything else (or a panic) fails the test.
const STABLE_CODES: &[&str] = &["invalid_image", "image_too_large", "unsupported_media_type", "invalid_chain"];
/// Pixel limit used for the corpus (small, so bombs are refused quickly).
const MAX_PIXELS: u64 = 4_000_000;
/// The Worker's default memory budget.
const LIMITS: Limits = Limits { max_pixels: MAX_PIXELS, memory_budget: 100_663_296 };

fn encode(img: &image::DynamicImage, format: image::ImageOutputFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format).expect("fixture encodes");
    out
}

/// One valid 24×16 image per input format.
fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let rgb = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(24, 16, |x, y| image::Rgb([x as u8 * 10, y as u8 * 15, 99])));
    let rgba = image::DynamicImage::ImageRgba8(rgb.to_rgba8());
    let mut webp = Vec::new();
    image_webp::WebPEncoder::new(&mut webp).encode(rgba.as_bytes(), 24, 16, image_webp::ColorType::Rgba8).expect("webp fixture");
    vec![
        ("png", encode(&rgba, image::ImageOutputFormat::Png)),
        ("jpeg", encode(&rgb, image::ImageOutputFormat::Jpeg(85))),
        ("gif", encode(&rgba, image::ImageOutputFormat::Gif)),
        ("bmp", encode(&rgb, image::ImageOutputFormat::Bmp)),
        ("webp", webp),
    ]
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for (name, bytes) in fixtures() {
        let n = bytes.len();
        // Truncations at 20 spread offsets (including inside the header).
        for k in 0..20 {
            let cut = 1 + (n - 1) * k / 20;
            out.push((format!("{name}/truncated@{cut}"), bytes[..cut].to_vec()));
        }
        // 15 single-byte corruptions past the magic, and 5 bursts of garbage.
        for k in 0..20 {
            let mut b = bytes.clone();
            let at = 8 + (rng.next() as usize) % (n - 8);
            let len = if k < 15 { 1 } else { 1 + (rng.next() as usize) % 32 };
            for byte in &mut b[at..(at + len).min(n)] {
                *byte ^= (rng.next() as u8) | 1;
            }
            out.push((format!("{name}/flipped@{at}+{len}"), b));
        }
        // The magic followed by garbage, and the body without its magic.
        out.push((format!("{name}/magic-then-junk"), [&bytes[..8], &[0xAB; 64][..]].concat()));
        out.push((format!("{name}/no-magic"), bytes[8..].to_vec()));
    }
    out.extend(lying_headers());
    out.push(("empty".into(), Vec::new()));
    out.push(("one-byte".into(), vec![0xFF]));
    out.push(("text".into(), b"definitely not an image".to_vec()));
    out
}

/// Valid-looking headers that declare absurd or zero sizes (decompression bombs included).
fn lying_headers() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (w, h) in [(0u32, 16u32), (16, 0), (100_000, 100_000), (u32::MAX >> 1, 1), (1, u32::MAX >> 1), (65_535, 65_535)] {
        // PNG: rewrite IHDR width/height (the CRC no longer matches, as a forger's would not).
        let mut png = fixtures()[0].1.clone();
        png[16..20].copy_from_slice(&w.to_be_bytes());
        png[20..24].copy_from_slice(&h.to_be_bytes());
        out.push((format!("png/ihdr-{w}x{h}"), png));
        // JPEG: rewrite the SOF0 dimensions.
        let mut jpg = fixtures()[1].1.clone();
        if let Some(sof) = jpg.windows(2).position(|p| p == [0xFF, 0xC0]) {
            jpg[sof + 5..sof + 7].copy_from_slice(&(h.min(65_535) as u16).to_be_bytes());
            jpg[sof + 7..sof + 9].copy_from_slice(&(w.min(65_535) as u16).to_be_bytes());
        }
        out.push((format!("jpeg/sof-{w}x{h}"), jpg));
        // GIF: the logical screen size.
        let mut gif = fixtures()[2].1.clone();
        gif[6..8].copy_from_slice(&(w.min(65_535) as u16).to_le_bytes());
        gif[8..10].copy_from_slice(&(h.min(65_535) as u16).to_le_bytes());
        out.push((format!("gif/screen-{w}x{h}"), gif));
        // BMP: the info header's width/height.
        let mut bmp = fixtures()[3].1.clone();
        bmp[18..22].copy_from_slice(&(w as i32).to_le_bytes());
        bmp[22..26].copy_from_slice(&(h as i32).to_le_bytes());
        out.push((format!("bmp/info-{w}x{h}"), bmp));
    }
    out
}

fn check(name: &str, bytes: &[u8], chain: &Chain) -> Result<(), String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let _ = probe(bytes);
        run_chain(chain, bytes.to_vec(), LIMITS, &HashMap::new())
    }));
    match outcome {
        Err(_) => Err(format!("{name}: panicked")),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if STABLE_CODES.contains(&e.code()) => Ok(()),
        Ok(Err(e)) => Err(format!("{name}: unexpected code {}", e.code())),
    }
}

#[test]
fn no_corrupt_input_panics_and_each_gets_a_stable_code() {
    let corpus = corpus();
    assert!(corpus.len() >= 200, "the corpus has {} inputs", corpus.len());
    let chains = [
        Chain::parse(&json!([{"op": "resize", "width": 8}, {"op": "encode", "format": "png"}])).expect("chain"),
        Chain::parse(&json!([{"op": "grayscale"}, {"op": "encode", "format": "jpeg"}])).expect("chain"),
    ];
    // Quiet the default hook so a panic is reported once, by name, below.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let failures: Vec<String> =
        corpus.iter().flat_map(|(name, bytes)| chains.iter().filter_map(move |c| check(name, bytes, c).err())).collect();
    std::panic::set_hook(hook);
    assert!(failures.is_empty(), "{} of {} inputs misbehaved:\n{}", failures.len(), corpus.len(), failures.join("\n"));
}

#[test]
fn bombs_are_refused_as_too_large_before_decoding() {
    for (name, bytes) in lying_headers().iter().filter(|(n, _)| n.contains("100000x100000")) {
        let code = probe(bytes).map(|i| i.pixels()).map_err(|e| e.code());
        let chain = Chain::parse(&json!([{"op": "grayscale"}])).expect("chain");
        let err = run_chain(&chain, bytes.clone(), LIMITS, &HashMap::new()).expect_err(name);
        assert!(matches!(err.code(), "image_too_large" | "invalid_image"), "{name}: {code:?} then {}", err.code());
    }
}
