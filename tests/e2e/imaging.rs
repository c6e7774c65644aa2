//! End-to-end tests of the imaging engine through the API: big inputs inside the memory budget,
//! and chains that cannot fit refused before anything is decoded.

use crate::support::*;
use functions::registry::{ENCODE, GRAYSCALE, RESIZE};
use reqwest::StatusCode;
use serde_json::json;

/// An 8000×6000 (48 MP) baseline JPEG with detail everywhere, made in-process (once per run) so
/// the tests need no files from outside the repository.
fn jpeg_48_megapixels() -> Vec<u8> {
    static FIXTURE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(make_jpeg_48_megapixels).clone()
}

fn make_jpeg_48_megapixels() -> Vec<u8> {
    use functions::ops::encode::{encode, EncodeParams, OutputFormat};
    use functions::raster::{Layout, Raster};
    let (w, h) = (8000u32, 6000u32);
    let pixels: Vec<u8> = (0..h)
        .flat_map(|y| (0..w).flat_map(move |x| [(x ^ y) as u8, (x.wrapping_mul(7) + y) as u8, (y.wrapping_mul(3) ^ x) as u8]))
        .collect();
    let raster = Raster::new(w, h, Layout::Rgb8, pixels).expect("an 8000×6000 raster");
    encode(raster, &EncodeParams::new(OutputFormat::Jpeg, 88)).expect("encode the 48 MP fixture")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_48_megapixel_photo_resizes_to_1600_px_within_the_memory_budget() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_ok(&token, jpeg_48_megapixels(), "image/jpeg").await;
    assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(8000), Some(6000)), "{image}");
    let steps = json!([{"op": RESIZE, "width": 1600}, {"op": ENCODE, "format": "jpeg", "quality": 80}]);
    let task = app.run_chain(&token, image["id"].as_str().unwrap(), steps).await;
    let done = app.wait_for_task(&token, task["id"].as_str().unwrap(), TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!((done["outputs"][0]["width"].as_u64(), done["outputs"][0]["height"].as_u64()), (Some(1600), Some(1200)));
    for step in done["steps"].as_array().expect("steps") {
        let memory = step["memory_bytes"].as_u64().expect("memory_bytes reported");
        assert!(memory < 128 << 20, "a step used {} MiB of wasm memory: {done:#}", memory >> 20);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_preset_runs_on_a_48_megapixel_photo_within_the_memory_budget() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_ok(&token, jpeg_48_megapixels(), "image/jpeg").await;
    // Each preset starts with auto_orient, which commutes with scaling: the decode still shrinks.
    for (preset, size) in [("web", (1600, 1200)), ("thumbnail", (256, 256)), ("avatar", (512, 512))] {
        let body = json!({"images": [image["id"]], "preset": preset});
        let task = json_body(app.create_task(&token, &body).await, StatusCode::ACCEPTED).await;
        let done = app.wait_for_task(&token, task["id"].as_str().unwrap(), TASK_DEADLINE).await;
        assert_eq!(done["status"], "succeeded", "{preset}: {done:#}");
        let output = &done["outputs"][0];
        assert_eq!((output["width"].as_u64(), output["height"].as_u64()), (Some(size.0), Some(size.1)), "{preset}: {done:#}");
        for step in done["steps"].as_array().expect("steps") {
            let memory = step["memory_bytes"].as_u64().expect("memory_bytes reported");
            assert!(memory < 128 << 20, "{preset}: a step used {} MiB of wasm memory: {done:#}", memory >> 20);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_that_cannot_fit_is_refused_with_413_before_decoding() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_ok(&token, jpeg_48_megapixels(), "image/jpeg").await;
    // Grayscale needs every pixel of the 8000×6000 original decoded: ~144 MB > the 96 MiB budget.
    let body = json!({"images": [image["id"]], "steps": [{"op": GRAYSCALE}]});
    let err = assert_error(app.create_task(&token, &body).await, StatusCode::PAYLOAD_TOO_LARGE, "image_too_large").await;
    let message = err["message"].as_str().unwrap_or_default();
    assert!(message.contains("MEMORY_BUDGET_BYTES"), "the limit is named: {message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watermark_padded_past_its_cap_is_refused_with_413_and_the_figures() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let photo = app.upload_png(&token, "photo.png", 64, 48).await;
    // A 4x4 PNG padded to 9 MiB: within the pixel cap, but the job would hold all of it.
    let mut mark = png_fixture(4, 4);
    mark.resize(9 << 20, 0);
    let mark = app.upload_ok(&token, mark, "image/png").await;
    let body = json!({"images": [photo], "steps": [{"op": "watermark", "image": mark["id"]}, {"op": ENCODE, "format": "png"}]});
    let err = assert_error(app.create_task(&token, &body).await, StatusCode::PAYLOAD_TOO_LARGE, "image_too_large").await;
    let message = err["message"].as_str().unwrap_or_default();
    assert!(message.contains(&(9u64 << 20).to_string()) && message.contains("8388608"), "the figures are named: {message}");
}
