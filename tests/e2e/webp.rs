//! Lossy WebP from the Worker is libwebp's own bitstream. In the Worker (wasm32) the encoder's
//! hottest kernels are our SIMD ones (crates/webp-lossy/src/simd) in place of libwebp's plain-C
//! ones; they must compute exactly what libwebp computes, or every WebP the studio writes would
//! silently differ from cwebp's. The reference is the same chain run natively by the same
//! imaging core, where libwebp runs its own kernels.

use crate::support::*;
use functions::registry::ENCODE;
use functions::session::run_chain;
use functions::Chain;
use image::{ImageOutputFormat, Rgb, RgbImage};
use serde_json::json;
use std::collections::HashMap;
use std::io::Cursor;

/// A photo-like PNG of odd size (partial macroblocks on both edges): gradients, hard-edged
/// tiles and grain whose strength grows down the image, so that flat and busy macroblocks,
/// every prediction mode and the whole range of coefficients occur.
fn textured_png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        let hash = x.wrapping_mul(374_761_393) ^ y.wrapping_mul(668_265_263);
        let grain = (hash.wrapping_mul(2_246_822_519) >> 24) as i32 - 128;
        let grain = grain * y as i32 / height as i32;
        let tile = if (x / 23 + y / 17) % 2 == 0 { 70 } else { 0 };
        let sample = |base: u32| (base as i32 + tile + grain).clamp(0, 255) as u8;
        Rgb([sample(x * 180 / width), sample(y * 180 / height), sample(90 + (x + y) % 40)])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageOutputFormat::Png).expect("encode the fixture");
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread")]
async fn lossy_webp_from_the_worker_is_byte_for_byte_the_native_libwebp_output() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let source = textured_png(203, 157);
    let image = app.upload_ok(&token, source.clone(), "image/png").await["id"].as_str().expect("id").to_string();
    let limits = functions::plan::Limits { max_pixels: 1 << 26, memory_budget: 1 << 30 };
    for quality in [1, 40, 80, 100] {
        let steps = json!([{"op": ENCODE, "format": "webp", "quality": quality}]);
        let task = app.run_chain(&token, &image, steps.clone()).await;
        let done = app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
        assert_eq!(done["status"], "succeeded", "quality {quality}: {done:#}");
        let got = download(&app, &token, done["id"].as_str().expect("id")).await;
        let chain = Chain::parse(&steps).expect("a valid chain");
        let want = run_chain(&chain, source.clone(), limits, &HashMap::new()).expect("the chain runs natively").bytes;
        assert_eq!(&got[12..16], b"VP8 ", "quality {quality}: lossy");
        let first_difference = got.iter().zip(&want).position(|(a, b)| a != b);
        assert!(
            got == want,
            "quality {quality}: the Worker wrote {} bytes, native libwebp {}; first difference at byte {first_difference:?}",
            got.len(),
            want.len()
        );
    }
}
