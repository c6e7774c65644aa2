//! End-to-end tests of `encode`'s output options through the public routes: lossy and lossless
//! WebP, progressive JPEG, and `max_bytes` (the best quality that fits, or a clear failure).

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
