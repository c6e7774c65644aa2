//! Hardening: request bodies are bounded before they are read into memory or parsed.

use crate::support::*;
use functions::registry::{ENCODE, GRAYSCALE};
use futures_util::stream;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The contract's cap on a `POST /tasks` body.
const TASK_BODY_CAP: usize = 64 * 1024;

/// A body that starts like a task request and is not valid JSON: were it parsed, it would be
/// 400 `invalid_json`, so a 413 shows the size was checked first.
fn oversized_task_body(len: usize) -> Vec<u8> {
    let mut body = br#"{"images": ["img_0123456789abcdef0123456789abcdef"], "steps": ["#.to_vec();
    body.resize(len, b'0');
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_body_over_64_kib_is_refused_with_413_before_parsing() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let big = oversized_task_body(TASK_BODY_CAP + 1);

    // Declared: Content-Length alone is enough to refuse.
    let declared = app.request(Method::POST, "/tasks", Some(&alice)).header("content-type", "application/json").body(big.clone());
    let error = assert_error(send(declared).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("65536") && message.contains(&(TASK_BODY_CAP + 1).to_string()), "limit and declared size: {message}");

    // Chunked, without Content-Length: refused while streaming, once the count passes the cap.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        oversized_task_body(4 * TASK_BODY_CAP).chunks(4096).map(|c| Ok(c.to_vec())).collect();
    let chunked = app
        .request(Method::POST, "/tasks", Some(&alice))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream::iter(chunks)));
    let error = assert_error(send(chunked).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert!(error["message"].as_str().is_some_and(|m| m.contains("65536")), "the limit: {error}");

    // Just under the cap, the same bytes are parsed (and refused as what they are: not JSON).
    let small = app
        .request(Method::POST, "/tasks", Some(&alice))
        .header("content-type", "application/json")
        .body(oversized_task_body(TASK_BODY_CAP));
    assert_error(send(small).await, StatusCode::BAD_REQUEST, "invalid_json").await;

    // A normal request, sent chunked as well, still works afterwards.
    let image = app.upload_png(&alice, "after.png", 16, 16).await;
    let body = json!({"images": [image], "steps": [{"op": GRAYSCALE}, {"op": ENCODE, "format": "png"}]}).to_string().into_bytes();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body.chunks(16).map(|c| Ok(c.to_vec())).collect();
    let chunked = app
        .request(Method::POST, "/tasks", Some(&alice))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream::iter(chunks)));
    let task = json_body(send(chunked).await, StatusCode::ACCEPTED).await;
    let task = app.wait_for_task(&alice, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    assert_eq!(task["status"], "succeeded", "{task}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_request_without_a_body_is_invalid_json_not_an_internal_error() {
    let app = TestApp::spawn().await;
    let resp = app.post(&app.token("alice"), "/tasks").await;
    assert_error(resp, StatusCode::BAD_REQUEST, "invalid_json").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_is_charged_by_its_image_steps_so_a_big_one_spends_the_minute() {
    // 60 tokens a minute, refilled at 1 a second. The upload takes 5; eleven images × five
    // steps take the other 55, so the next task (5 tokens) is refused for seconds. Charged a
    // flat 5 (as it once was), the big task would leave 50 and the next would pass.
    let app = TestApp::spawn_with(&[("RATE_LIMIT_PER_MINUTE", "60")]).await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "r.png", 16, 16).await;
    let steps = json!([{"op": GRAYSCALE}, {"op": GRAYSCALE}, {"op": GRAYSCALE}, {"op": GRAYSCALE}, {"op": ENCODE, "format": "png"}]);
    let big = json!({"images": vec![image.clone(); 11], "steps": steps});
    json_body(app.create_task(&token, &big).await, StatusCode::ACCEPTED).await;
    let small = json!({"images": [image], "steps": [{"op": GRAYSCALE}]});
    let refused = app.create_task(&token, &small).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "the big task spent the minute");
    assert!(refused.headers().get("retry-after").is_some());
}
