//! More than a thousand hostile inputs through the real Worker: each gets a stable 4xx at
//! upload or, once accepted, a render answer (an image or a stable 4xx) and a task that ends
//! succeeded or failed with a stable code; no 5xx,
//! no module crash, every step inside the 128 MiB cap. The outcome per kind is printed.

use crate::support::corpus::corpus;
use crate::support::*;
use functions::registry::{ENCODE, GRAYSCALE, RESIZE};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Codes a hostile input may get, at upload or from its task.
const STABLE: &[&str] = &["invalid_image", "image_too_large", "unsupported_media_type", "payload_too_large", "invalid_chain"];
const CAP: u64 = 128 << 20;

/// What happened to one input: the upload's answer, then its task's end (if it ran).
async fn run_one(app: &TestApp, token: &str, body: Vec<u8>) -> String {
    let resp = app.upload(Some(token), body, "application/octet-stream").await;
    let status = resp.status();
    let answer: Value = resp.json().await.unwrap_or(Value::Null);
    if status != StatusCode::CREATED {
        let code = answer["error"]["code"].as_str().unwrap_or("?").to_string();
        assert!(status.is_client_error() && STABLE.contains(&code.as_str()), "upload answered {status} {answer}");
        return format!("upload {code}");
    }
    let id = answer["id"].as_str().expect("image id");
    let rendered = render_one(app, token, id).await;
    // A full-decode step first, then shrink and encode: every decoder path is reached.
    let steps = json!([{"op": GRAYSCALE}, {"op": RESIZE, "width": 24}, {"op": ENCODE, "format": "png"}]);
    let resp = app.create_task(token, &json!({"images": [id], "steps": steps})).await;
    if resp.status() != StatusCode::ACCEPTED {
        let (status, body) = (resp.status(), resp.json::<Value>().await.unwrap_or(Value::Null));
        let code = body["error"]["code"].as_str().unwrap_or("?").to_string();
        assert!(status.is_client_error() && STABLE.contains(&code.as_str()), "task creation answered {status} {body}");
        return format!("task refused {code}");
    }
    let task: Value = resp.json().await.expect("task");
    let done = app.wait_for_task(token, task["id"].as_str().expect("id"), Duration::from_secs(120)).await;
    for step in done["steps"].as_array().into_iter().flatten() {
        assert!(step["memory_bytes"].as_u64().unwrap_or(0) < CAP, "a step past the cap: {done:#}");
    }
    match done["status"].as_str() {
        Some("succeeded") => format!("task succeeded, {rendered}"),
        Some("failed") => {
            let code = done["error"]["code"].as_str().unwrap_or("?").to_string();
            assert!(STABLE.contains(&code.as_str()), "a hostile input failed with an unstable code: {done:#}");
            format!("task failed {code}, {rendered}")
        }
        other => panic!("task ended {other:?}: {done:#}"),
    }
}

/// The same input through the synchronous path, a render URL: an image or a stable 4xx.
async fn render_one(app: &TestApp, token: &str, id: &str) -> String {
    let resp = app.get(Some(token), &format!("/images/{id}/render?w=24&format=png")).await;
    let status = resp.status();
    if status == StatusCode::OK {
        return "render ok".into();
    }
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let code = body["error"]["code"].as_str().unwrap_or("?").to_string();
    assert!(status.is_client_error() && STABLE.contains(&code.as_str()), "a render answered {status} {body}");
    format!("render {code}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_hostile_inputs_get_stable_errors_and_never_crash_the_worker() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_PER_MINUTE", "1000000"), ("MAX_UPLOAD_BYTES", "16777216")]).await;
    let token = app.token("mallory");
    let inputs = corpus();
    assert!(inputs.len() >= 1000, "the corpus has {} inputs", inputs.len());
    let (app_ref, token_ref) = (&app, token.as_str());
    let outcomes: Vec<(String, String)> = futures_util::stream::iter(inputs)
        .map(|(kind, body)| async move { (kind, run_one(app_ref, token_ref, body).await) })
        .buffer_unordered(12)
        .collect()
        .await;
    let mut summary: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (kind, outcome) in &outcomes {
        *summary.entry(kind.clone()).or_default().entry(outcome.clone()).or_default() += 1;
    }
    eprintln!("hostile corpus: {} inputs", outcomes.len());
    for (kind, by_outcome) in &summary {
        eprintln!("  {kind:<28} {by_outcome:?}");
    }
    let log = app.server_log();
    assert!(!log.contains("RuntimeError") && !log.contains("Reinitializing"), "the module crashed: see the server log");
    // The Worker still serves ordinary work afterwards.
    let image = app.upload_png(&token, "after.png", 40, 30).await;
    let task = app.run_chain(&token, &image, json!([{"op": RESIZE, "width": 20}])).await;
    let done = app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
}
