//! The bounds hold on the worst content our encoders see: uniform noise, quality 100, every
//! layout, every output format, at small and larger sizes.

use super::*;
use crate::format::Format;
use crate::ops::encode::encode;
use crate::raster::{Layout, Raster};
use serde_json::{json, Value};

/// Deterministic noise (xorshift): incompressible for every encoder.
fn noise(w: u32, h: u32, layout: Layout, seed: u64) -> Raster {
    let mut s = seed | 1;
    let n = w as usize * h as usize * layout.channels();
    let pixels = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect();
    Raster::new(w, h, layout, pixels).expect("raster")
}

fn info(format: Format, (width, height): (u32, u32)) -> ImageInfo {
    ImageInfo { format, width, height, progressive: false, wide: false }
}

fn chain(encode: Value) -> Chain {
    Chain::parse(&json!([encode])).expect("chain")
}

const ENCODES: [&str; 7] = [
    r#"{"op": "encode", "format": "png"}"#,
    r#"{"op": "encode", "format": "jpeg", "quality": 100}"#,
    r#"{"op": "encode", "format": "jpeg", "quality": 100, "progressive": true}"#,
    r#"{"op": "encode", "format": "webp", "quality": 100}"#,
    r#"{"op": "encode", "format": "webp", "lossless": true}"#,
    r#"{"op": "encode", "format": "gif"}"#,
    r#"{"op": "encode", "format": "avif", "quality": 100}"#,
];

#[test]
fn noise_at_the_highest_quality_stays_within_every_formats_bound() {
    for (w, h) in [(1, 1), (17, 9), (301, 203)] {
        for layout in [Layout::Luma8, Layout::LumaA8, Layout::Rgb8, Layout::Rgba8] {
            for text in ENCODES {
                let chain = chain(serde_json::from_str(text).expect("json"));
                let Some(Step::Encode(p)) = chain.steps().last() else { panic!("an encode step") };
                let bytes = encode(noise(w, h, layout, u64::from(w * h)), p).expect("encodes").len() as u64;
                let bound = output_bound(&info(Format::Png, (w, h)), &chain, (w, h));
                assert!(bytes <= bound, "{text} {layout:?} {w}x{h}: {bytes} bytes > bound {bound}");
                // The bound is not so loose that it says nothing (the fixed part aside).
                let per_pixel = (bound - FIXED_BYTES) as f64 / f64::from(w * h);
                assert!(per_pixel <= 8.0, "{text}: {per_pixel} bytes a pixel");
            }
        }
    }
}

#[test]
fn a_chain_without_encode_is_bounded_in_its_sources_format() {
    let chain = Chain::parse(&json!([{"op": "grayscale"}])).expect("chain");
    assert_eq!(output_params(&info(Format::Jpeg, (8, 8)), &chain).format, OutputFormat::Jpeg);
    assert_eq!(output_params(&info(Format::Tiff, (8, 8)), &chain).format, OutputFormat::Png);
    // PNG (from TIFF) may take more than GIF (a palette index a pixel) for the same pixels.
    let bound = |format| output_bound(&info(format, (8, 8)), &chain, (100, 100));
    let (gif, png) = (bound(Format::Gif), bound(Format::Tiff));
    assert!(png > gif, "{png} vs {gif}");
}

#[test]
fn max_bytes_and_kept_metadata_move_the_bound() {
    let size = (1000, 1000);
    let plain = output_bound(&info(Format::Png, size), &chain(json!({"op": "encode", "format": "jpeg"})), size);
    let capped = output_bound(&info(Format::Png, size), &chain(json!({"op": "encode", "format": "jpeg", "max_bytes": 50000})), size);
    let kept = output_bound(&info(Format::Png, size), &chain(json!({"op": "encode", "format": "jpeg", "metadata": "keep"})), size);
    assert_eq!(capped, 50_000 + FIXED_BYTES);
    assert_eq!(kept, plain + MAX_HELD);
    for format in ["jpeg", "png", "webp", "avif"] {
        let [plain, profiled] = ["convert", "keep"]
            .map(|icc| output_bound(&info(Format::Jpeg, size), &chain(json!({"op": "encode", "format": format, "icc": icc})), size));
        assert_eq!(profiled, plain + crate::icc::MAX_PROFILE_BYTES as u64, "{format}: a kept profile is counted whole");
    }
}

#[test]
fn a_task_of_several_images_also_stores_their_zip() {
    assert_eq!(task_bound(&[]), 0);
    assert_eq!(task_bound(&[1000]), 1000, "one image: no zip");
    assert_eq!(task_bound(&[1000, 500]), 1500 + 1500 + 2 * ZIP_ENTRY_BYTES + ZIP_END_BYTES);
    assert_eq!(task_bound(&[u64::MAX, 1]), u64::MAX, "no overflow");
}
