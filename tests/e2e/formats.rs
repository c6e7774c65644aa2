//! End-to-end tests of `encode`'s output options through the public routes: lossy and lossless
//! WebP, progressive JPEG, AVIF, and `max_bytes` (the best quality that fits, or a clear failure).

use crate::support::*;
use functions::registry::ENCODE;
use serde_json::{json, Value};

/// Runs `encode` with `params` on `image`; the finished task.
async fn encode_task(app: &TestApp, token: &str, image: &str, params: Value) -> Value {
    let mut step = json!({"op": ENCODE});
    step.as_object_mut().expect("object").extend(params.as_object().expect("params").clone());
    let task = app.run_chain(token, image, json!([step])).await;
    app.wait_for_task(token, task["id"].as_str().expect("id"), TASK_DEADLINE).await
}

fn has(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread")]
async fn webp_is_lossy_at_a_quality_lossless_on_request_and_jpeg_progressive_on_request() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "p.png", 320, 240).await;
    let cases = [
        (json!({"format": "webp", "quality": 80}), b"VP8 ".as_slice(), image::ImageFormat::WebP),
        (json!({"format": "webp", "lossless": true}), b"VP8L".as_slice(), image::ImageFormat::WebP),
        (json!({"format": "jpeg", "quality": 80, "progressive": true}), [0xFF, 0xC2].as_slice(), image::ImageFormat::Jpeg),
    ];
    for (params, marker, format) in cases {
        let done = encode_task(&app, &token, &image, params.clone()).await;
        assert_eq!(done["status"], "succeeded", "{params}: {done:#}");
        let bytes = download(&app, &token, done["id"].as_str().expect("id")).await;
        assert!(has(&bytes, marker), "{params}: the output lacks {marker:?}");
        let decoded = decode_as(&bytes, format);
        assert_eq!((decoded.width(), decoded.height()), (320, 240), "{params}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn max_bytes_keeps_an_output_that_fits_and_fails_clearly_when_none_can() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "p.png", 320, 240).await;
    let full = encode_task(&app, &token, &image, json!({"format": "jpeg", "quality": 95})).await;
    let full_len = download(&app, &token, full["id"].as_str().expect("id")).await.len();

    let max = full_len / 2;
    let done = encode_task(&app, &token, &image, json!({"format": "jpeg", "quality": 95, "max_bytes": max})).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let fitted = download(&app, &token, done["id"].as_str().expect("id")).await;
    assert!(fitted.len() <= max, "{} bytes for max_bytes {max}", fitted.len());

    let done = encode_task(&app, &token, &image, json!({"format": "webp", "max_bytes": 50})).await;
    assert_eq!(done["status"], "failed", "{done:#}");
    assert_eq!(done["error"]["code"], "invalid_chain", "{done:#}");
    let message = done["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("max_bytes is 50") && message.contains("smallest webp output reached"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_max_bytes_search_is_reported_encode_by_encode_before_its_step_succeeds() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "p.png", 320, 240).await;
    let full = encode_task(&app, &token, &image, json!({"format": "jpeg", "quality": 95})).await;
    let max = download(&app, &token, full["id"].as_str().expect("id")).await.len() / 2;

    let task = app.run_chain(&token, &image, json!([{"op": ENCODE, "format": "jpeg", "quality": 95, "max_bytes": max}])).await;
    let id = task["id"].as_str().expect("id");
    let events = full_history(&app, &token, id).await;
    assert_eq!(types(&events).last(), Some(&"task.succeeded"), "{events:#?}");
    let at = |kind: &str| events.iter().position(|e| e["type"] == kind).expect(kind);
    let reports: Vec<(usize, &Value)> = events.iter().enumerate().filter(|(_, e)| e["type"] == "step.progress").collect();
    assert!((2..=6).contains(&reports.len()), "a search that needs more than one encode: {events:#?}");
    for (n, (position, event)) in reports.iter().enumerate() {
        assert!(at("step.started") < *position && *position < at("step.succeeded"), "reported while the step runs");
        assert_eq!((event["step"].as_u64(), event["op"].as_str(), event["attempt"].as_u64()), (Some(0), Some(ENCODE), Some(1)));
        assert_eq!(event["search"]["encode"], n + 1, "numbered in order: {event}");
        let fits = event["search"]["bytes"].as_u64().expect("bytes") <= max as u64;
        assert_eq!(event["search"]["fits"], fits, "{event}");
    }
    assert_eq!((&reports[0].1["search"]["quality"], &reports[0].1["search"]["fits"]), (&json!(95), &json!(false)));
    // The output kept is the fitting encode of the highest quality, byte for byte its size.
    let fitting = reports.iter().map(|(_, e)| &e["search"]).filter(|s| s["fits"] == true);
    let best = fitting.max_by_key(|s| s["quality"].as_u64()).expect("an encode fitted");
    assert_eq!(best["bytes"].as_u64(), Some(download(&app, &token, id).await.len() as u64));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_avif_encode_answers_image_avif_at_the_raster_size() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "p.png", 320, 240).await;
    let done = encode_task(&app, &token, &image, json!({"format": "avif", "quality": 60})).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(done["outputs"][0]["content_type"], "image/avif", "{done:#}");
    let bytes = download(&app, &token, done["id"].as_str().expect("id")).await;
    assert_eq!(&bytes[4..12], b"ftypavif");
    // The image spatial extents box: size, "ispe", version and flags, then width and height.
    let at = bytes.windows(4).position(|w| w == b"ispe").expect("an ispe box");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    assert_eq!((be(at + 8), be(at + 12)), (320, 240));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_1600x1200_avif_at_quality_95_fits_the_default_memory_budget_and_decodes() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "big.png", 1600, 1200).await;
    let done = encode_task(&app, &token, &image, json!({"format": "avif", "quality": 95})).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let bytes = download(&app, &token, done["id"].as_str().expect("id")).await;
    let back = avifdec(&bytes).to_rgb8();
    assert_eq!(back.dimensions(), (1600, 1200));
    // The fixture is a gradient (red across, green down, blue 160); all 16 tiles decode back to it.
    let source = decode_as(&png_fixture(1600, 1200), image::ImageFormat::Png).to_rgb8();
    let diff: u64 = source.as_raw().iter().zip(back.as_raw()).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
    let mean = diff as f64 / source.as_raw().len() as f64;
    assert!(mean < 2.0, "mean difference {mean:.2} per sample");
}
