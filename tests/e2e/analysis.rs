//! End-to-end tests of image analysis: the box `trim` kept is in its `step.succeeded` event and
//! the task's outputs; an upload's placeholder is announced on the tenant feed and shown by
//! `GET /images/{id}` and the listing, never resurrects a deleted image, and hostile inputs do
//! not break it.

use crate::support::*;
use base64::Engine;
use functions::registry::{ENCODE, TRIM};
use futures_util::StreamExt;
use image::{DynamicImage, ImageOutputFormat, RgbImage};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::Cursor;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// A PNG: `bg` everywhere but a `rect` (x, y, w, h) of a gradient (so the content is no
/// uniform colour either).
fn framed_png(width: u32, height: u32, bg: [u8; 3], rect: (u32, u32, u32, u32)) -> Vec<u8> {
    let inside = |x: u32, y: u32| x >= rect.0 && x < rect.0 + rect.2 && y >= rect.1 && y < rect.1 + rect.3;
    let img =
        RgbImage::from_fn(width, height, |x, y| if inside(x, y) { image::Rgb([(x * 3) as u8, 40, (y * 5) as u8]) } else { image::Rgb(bg) });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img).write_to(&mut out, ImageOutputFormat::Png).expect("encode the fixture");
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread")]
async fn trim_reports_the_box_it_kept_in_the_event_and_the_outputs() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_ok(&token, framed_png(120, 80, [250, 250, 250], (17, 9, 60, 41)), "image/png").await;
    let steps = json!([{"op": TRIM, "threshold": 12}, {"op": ENCODE, "format": "png"}]);
    let task = app.run_chain(&token, image["id"].as_str().expect("id"), steps).await;
    let id = task["id"].as_str().expect("task id");
    let events = full_history(&app, &token, id).await;
    let kept = json!({"x": 17, "y": 9, "width": 60, "height": 41});
    let succeeded = of_type(&events, "step.succeeded");
    assert_eq!(succeeded[0]["op"], TRIM);
    assert_eq!(succeeded[0]["box"], kept, "{events:#?}");
    assert!(succeeded[1].get("box").is_none(), "encode keeps no box: {:#}", succeeded[1]);
    let done = app.wait_for_task(&token, id, TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let output = &done["outputs"][0];
    assert_eq!(output["box"], kept, "{done:#}");
    assert_eq!((output["width"].as_u64(), output["height"].as_u64()), (Some(60), Some(41)));
    let png = download(&app, &token, id).await;
    let out = decode_as(&png, image::ImageFormat::Png).to_rgb8();
    assert_eq!(out.get_pixel(0, 0).0, [(17 * 3) as u8, 40, (9 * 5) as u8], "the box's corner is the output's");
}

/// Reads the feed until `image`'s `image.analyzed`; returns every event read.
async fn analyzed(ws: &mut WsStream, image: &str) -> Vec<Value> {
    let deadline = Instant::now() + TASK_DEADLINE;
    let mut events = Vec::new();
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next()).await.expect("image.analyzed before the deadline");
        let Some(Ok(Message::Text(text))) = next else { continue };
        let event: Value = serde_json::from_str(text.as_str()).expect("JSON event");
        let done = event["type"] == "image.analyzed" && event["image"] == image;
        events.push(event);
        if done {
            return events;
        }
    }
}

/// Waits until the server has logged a line about `image` holding one of `outcomes`.
async fn logged(app: &TestApp, image: &str, outcomes: &[&str]) -> String {
    let deadline = Instant::now() + TASK_DEADLINE;
    loop {
        let log = app.server_log();
        let line = log.lines().find(|l| l.contains(image) && outcomes.iter().any(|o| l.contains(o)));
        if let Some(line) = line {
            return line.to_string();
        }
        assert!(Instant::now() < deadline, "no {outcomes:?} line about {image}");
        // Poll interval inside the deadline loop; the condition is the log line above.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_gets_its_placeholder_announced_on_the_feed_and_shown_by_get_and_listing() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let mut ws = feed_socket(&app, &token).await;
    let image = app.upload_ok(&token, jpeg_fixture(640, 480), "image/jpeg").await;
    assert!(image.get("placeholder").is_some_and(Value::is_null), "null until analysed: {image}");
    let id = image["id"].as_str().expect("id");
    let events = analyzed(&mut ws, id).await;
    let placeholder = events.last().expect("the event")["placeholder"].clone();
    assert_eq!(placeholder["aspect"], 1.3333, "{placeholder}");
    let colour =
        |v: &Value| v.as_str().is_some_and(|s| s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit()));
    assert!(colour(&placeholder["dominant_color"]) && colour(&placeholder["average_color"]), "{placeholder}");
    let hash = placeholder["thumbhash"].as_str().expect("thumbhash");
    assert!(base64::engine::general_purpose::STANDARD.decode(hash).is_ok_and(|h| h.len() >= 5), "{hash}");
    let got = json_body(app.get(Some(&token), &format!("/images/{id}")).await, StatusCode::OK).await;
    assert_eq!(got["placeholder"], placeholder, "GET shows what the feed announced");
    let listing = json_body(app.get(Some(&token), "/images").await, StatusCode::OK).await;
    assert_eq!(listing["items"][0]["placeholder"], placeholder, "{listing}");
    let content = app.get(Some(&token), &format!("/images/{id}/content")).await;
    assert_eq!(content.bytes().await.expect("bytes").to_vec(), jpeg_fixture(640, 480), "the original is unchanged");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_an_image_before_its_analysis_runs_does_not_bring_it_back() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let doomed = app.upload_png(&token, "doomed.png", 300, 200).await;
    let resp = send(app.request(Method::DELETE, &format!("/images/{doomed}"), Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // Its job ran (or found nothing to do); either way the image stays gone.
    logged(&app, &doomed, &["the image was deleted", "\"analyzed\""]).await;
    assert_error(app.get(Some(&token), &format!("/images/{doomed}")).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_error(app.get(Some(&token), &format!("/images/{doomed}/content")).await, StatusCode::NOT_FOUND, "not_found").await;
    let listing = json_body(app.get(Some(&token), "/images").await, StatusCode::OK).await;
    assert_eq!(listing["items"], json!([]), "{listing}");
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_uploads_leave_the_placeholder_null_and_never_break_the_worker() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_PER_MINUTE", "1000000"), ("MAX_UPLOAD_BYTES", "16777216")]).await;
    let token = app.token("mallory");
    let mut accepted = Vec::new();
    // Every 8th input of the hostile corpus: each kind of damage, a tenth of the run time.
    for (_, body) in corpus::corpus().into_iter().step_by(8) {
        let resp = app.upload(Some(&token), body, "application/octet-stream").await;
        if resp.status() == StatusCode::CREATED {
            accepted.push(resp.json::<Value>().await.expect("image")["id"].as_str().expect("id").to_string());
        }
    }
    assert!(accepted.len() >= 20, "enough accepted inputs reach the analysis: {}", accepted.len());
    for id in &accepted {
        let line = logged(&app, id, &["\"analyzed\"", "analysis_failed"]).await;
        let got = json_body(app.get(Some(&token), &format!("/images/{id}")).await, StatusCode::OK).await;
        assert_eq!(got["placeholder"].is_null(), line.contains("analysis_failed"), "{line} / {got}");
    }
    let log = app.server_log();
    assert!(!log.contains("RuntimeError") && !log.contains("Reinitializing"), "the module crashed: see the server log");
    let mut ws = feed_socket(&app, &token).await;
    let after = app.upload_png(&token, "after.png", 40, 30).await;
    analyzed(&mut ws, &after).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_analysis_the_upload_could_not_send_is_sent_by_the_tenant_index_and_announced() {
    // Every send the upload makes after its answer fails; only the index's alarm can deliver.
    let app = TestApp::spawn_with(&[("FAULT_INJECTION", "analysis_send_fail")]).await;
    let token = app.token("alice");
    let mut ws = feed_socket(&app, &token).await;
    let image = app.upload_ok(&token, jpeg_fixture(640, 480), "image/jpeg").await;
    let id = image["id"].as_str().expect("id");
    assert!(image["placeholder"].is_null(), "{image}");
    logged(&app, id, &["analysis_not_queued"]).await;
    let placeholder = analyzed(&mut ws, id).await.last().expect("the event")["placeholder"].clone();
    assert!(placeholder["thumbhash"].is_string(), "{placeholder}");
    logged(&app, id, &["analysis_resent"]).await;
    let got = json_body(app.get(Some(&token), &format!("/images/{id}")).await, StatusCode::OK).await;
    assert_eq!(got["placeholder"], placeholder, "GET shows what the feed announced");
}
