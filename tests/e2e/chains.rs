//! Task chains that survive real life: fan-out to a zip, retries, duplicates, a dying consumer,
//! a restarted server, cancel, idempotency, result reuse, presets and the webhook — each proved
//! against the real Worker, with faults injected through the dev-only `FAULT_INJECTION` var.

use crate::support::*;
use functions::registry::{BLUR, ENCODE, GRAYSCALE, RESIZE};
use hmac::{Hmac, Mac};
use image::ImageFormat;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

fn resize_png() -> Value {
    json!([{"op": RESIZE, "width": 20}, {"op": ENCODE, "format": "png"}])
}

async fn start_task(app: &TestApp, token: &str, images: &[String], steps: Value) -> String {
    let task = json_body(app.create_task(token, &json!({"images": images, "steps": steps})).await, StatusCode::ACCEPTED).await;
    task["id"].as_str().expect("task id").to_string()
}

/// How many times each (image, step) has an event of `kind`.
fn per_step(events: &[Value], kind: &str) -> HashMap<(String, u64), usize> {
    let mut counts = HashMap::new();
    for e in of_type(events, kind) {
        *counts.entry((e["image"].as_str().unwrap_or("?").to_string(), e["step"].as_u64().unwrap_or(99))).or_default() += 1;
    }
    counts
}

/// Polls the task until `ready` holds (or it ends, which fails the test).
async fn wait_until(app: &TestApp, token: &str, id: &str, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + TASK_DEADLINE;
    loop {
        let task = json_body(app.get(Some(token), &format!("/tasks/{id}")).await, StatusCode::OK).await;
        if ready(&task) {
            return task;
        }
        assert!(!matches!(task["status"].as_str(), Some("succeeded" | "failed" | "cancelled")), "task ended before {what}: {task:#}");
        assert!(Instant::now() < deadline, "no {what} within {TASK_DEADLINE:?}: {task:#}");
        // Short poll interval inside the deadline loop; the condition is `ready` above.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_images_fan_out_and_download_as_a_zip_of_ten_valid_files() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let mut images = Vec::new();
    for i in 0..10 {
        // Two uploads share a name: the zip must still hold two distinct files.
        let name = if i < 2 { "same.png".to_string() } else { format!("photo-{i}.png") };
        images.push(app.upload_png(&token, &name, 40 + i, 30).await);
    }
    let id = start_task(&app, &token, &images, resize_png()).await;
    let events = full_history(&app, &token, &id).await;
    assert_eq!(types(&events).last(), Some(&"task.succeeded"), "{events:#?}");
    assert_eq!(of_type(&events, "step.succeeded").len(), 20, "2 steps × 10 images");
    let task = json_body(app.get(Some(&token), &format!("/tasks/{id}")).await, StatusCode::OK).await;
    assert_eq!(task["outputs"].as_array().map(Vec::len), Some(10), "{task:#}");

    let files = zip_entries(&download(&app, &token, &id).await);
    let names: BTreeSet<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected: BTreeSet<String> = (2..10).map(|i| format!("photo-{i}.png")).collect();
    expected.extend(["same.png".to_string(), "same-2.png".to_string()]);
    assert_eq!(names, expected.iter().map(String::as_str).collect());
    for (name, data) in &files {
        assert_eq!(decode_as(data, ImageFormat::Png).width(), 20, "{name} is a 20 px wide PNG");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_step_failing_transiently_twice_retries_with_backoff_then_succeeds_once() {
    let app = TestApp::spawn_with(&[("FAULT_INJECTION", "transient=2")]).await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "t.png", 40, 30).await;
    let id = start_task(&app, &token, &[image], json!([{"op": RESIZE, "width": 20}])).await;
    let events = full_history(&app, &token, &id).await;
    let retrying = of_type(&events, "step.retrying");
    assert_eq!(retrying.iter().map(|e| e["attempt"].as_u64()).collect::<Vec<_>>(), [Some(2), Some(3)], "{events:#?}");
    for e in &retrying {
        assert!(e["delay_ms"].as_u64().is_some_and(|d| d >= 1000), "a backoff delay: {e}");
        assert!(e["error"]["message"].as_str().is_some_and(|m| m.contains("transient")), "the cause: {e}");
    }
    let started: Vec<_> = of_type(&events, "step.started").iter().map(|e| e["attempt"].as_u64()).collect();
    assert_eq!(started, [Some(1), Some(2), Some(3)]);
    assert_eq!(types(&events).iter().filter(|t| **t == "step.succeeded").count(), 1);
    let task = json_body(app.get(Some(&token), &format!("/tasks/{id}")).await, StatusCode::OK).await;
    assert_eq!((task["status"].as_str(), task["steps"][0]["attempts"].as_u64()), (Some("succeeded"), Some(3)), "{task:#}");
    assert_eq!(task["outputs"].as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_failure_fails_the_task_with_its_code_step_and_image() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let good = app.upload_png(&token, "good.png", 40, 30).await;
    let bad = app.upload_ok(&token, corrupt_png_body(40, 30), "image/png").await["id"].as_str().expect("id").to_string();
    let id = start_task(&app, &token, &[good, bad.clone()], resize_png()).await;
    let events = full_history(&app, &token, &id).await;
    assert_eq!(types(&events).last(), Some(&"task.failed"), "{events:#?}");
    assert!(of_type(&events, "step.retrying").is_empty(), "a bad image is not retried");
    let task = json_body(app.get(Some(&token), &format!("/tasks/{id}")).await, StatusCode::OK).await;
    let error = &task["error"];
    assert_eq!(
        (error["code"].as_str(), error["step"].as_u64(), error["image"].as_str()),
        (Some("invalid_image"), Some(0), Some(bad.as_str()))
    );
    assert_error(app.get(Some(&token), &format!("/tasks/{id}/download")).await, StatusCode::CONFLICT, "task_not_finished").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_message_duplicated_still_gives_one_output_per_image_and_no_repeated_event() {
    let app = TestApp::spawn_with(&[("FAULT_INJECTION", "duplicate")]).await;
    let token = app.token("alice");
    let mut images = Vec::new();
    for i in 0..3 {
        images.push(app.upload_png(&token, &format!("d{i}.png"), 40, 30).await);
    }
    let id = start_task(&app, &token, &images, resize_png()).await;
    // full_history asserts seq 1..n with no gap and no repeat.
    let events = full_history(&app, &token, &id).await;
    assert_eq!(types(&events).last(), Some(&"task.succeeded"), "{events:#?}");
    for kind in ["step.started", "step.succeeded"] {
        let counts = per_step(&events, kind);
        assert_eq!(counts.len(), 6, "{kind} for each of 3 images × 2 steps: {counts:?}");
        assert!(counts.values().all(|n| *n == 1), "{kind} exactly once per step: {counts:?}");
    }
    assert_eq!(types(&events).iter().filter(|t| t.starts_with("task.")).count(), 2, "one task.queued, one task.succeeded");
    assert_eq!(zip_entries(&download(&app, &token, &id).await).len(), 3, "one output per image");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_consumer_dying_mid_step_is_caught_by_the_watchdog_and_retried() {
    let app = TestApp::spawn_with(&[("FAULT_INJECTION", "die=1"), ("STEP_TIMEOUT_SECONDS", "2")]).await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "w.png", 40, 30).await;
    let id = start_task(&app, &token, &[image], json!([{"op": RESIZE, "width": 20}])).await;
    let events = full_history(&app, &token, &id).await;
    assert_eq!(
        shape(&events),
        [
            "task.queued",
            "step.started@0:resize",
            "step.retrying@0:resize",
            "step.started@0:resize",
            "step.succeeded@0:resize",
            "task.succeeded"
        ]
    );
    let retry = of_type(&events, "step.retrying")[0];
    assert_eq!((retry["attempt"].as_u64(), retry["error"]["code"].as_str()), (Some(2), Some("timeout")), "{retry}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_killed_mid_chain_and_restarted_on_its_state_finishes_the_chain() {
    // The local queue loses its messages with the server: they are re-sent once unclaimed
    // for QUEUE_TIMEOUT_SECONDS (10 min by default, for a real queue's backlog).
    let mut app = TestApp::spawn_with(&[("STEP_TIMEOUT_SECONDS", "3"), ("QUEUE_TIMEOUT_SECONDS", "3")]).await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "r.png", 400, 300).await;
    let steps = json!([{"op": RESIZE, "width": 200}, {"op": GRAYSCALE}, {"op": RESIZE, "width": 100}, {"op": ENCODE, "format": "png"}]);
    let id = start_task(&app, &token, &[image], steps).await;
    wait_until(&app, &token, &id, "the first step done", |t| t["progress"]["done"].as_u64() >= Some(1)).await;
    // Everything in flight dies with the server: the queue's messages and any running step.
    app.restart().await;
    let task = app.wait_for_task(&token, &id, TASK_DEADLINE).await;
    assert_eq!(task["status"], "succeeded", "{task:#}");
    let events = full_history(&app, &token, &id).await;
    assert_eq!(per_step(&events, "step.succeeded").len(), 4, "{events:#?}");
    assert_eq!(decode_as(&download(&app, &token, &id).await, ImageFormat::Png).width(), 100);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_mid_chain_ends_the_task_and_no_further_step_starts() {
    // An image's steps run back to back in one job; the pause lets the cancel land mid-chain.
    let app = TestApp::spawn_with(&[("FAULT_INJECTION", "pause=400")]).await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "c.png", 400, 300).await;
    let steps = json!([{"op": BLUR, "sigma": 2}, {"op": GRAYSCALE}, {"op": BLUR, "sigma": 2}, {"op": ENCODE, "format": "png"}]);
    let id = start_task(&app, &token, &[image], steps).await;
    // Mid-chain: the first step is done, the rest is still to come.
    wait_until(&app, &token, &id, "the first step done", |t| t["progress"]["done"].as_u64() >= Some(1)).await;
    let accepted = json_body(app.post(&token, &format!("/tasks/{id}/cancel")).await, StatusCode::ACCEPTED).await;
    assert!(matches!(accepted["status"].as_str(), Some("running" | "cancelled")), "{accepted:#}");
    let started_at_cancel: u64 = accepted["steps"].as_array().expect("steps").iter().filter_map(|s| s["attempts"].as_u64()).sum();

    let events = full_history(&app, &token, &id).await;
    assert_eq!(types(&events).last(), Some(&"task.cancelled"), "{events:#?}");
    assert_eq!(of_type(&events, "step.started").len() as u64, started_at_cancel, "no step started after the cancel: {events:#?}");
    let task = json_body(app.get(Some(&token), &format!("/tasks/{id}")).await, StatusCode::OK).await;
    assert_eq!(task["status"], "cancelled");
    assert_error(app.post(&token, &format!("/tasks/{id}/cancel")).await, StatusCode::CONFLICT, "conflict").await;
    assert_error(app.get(Some(&token), &format!("/tasks/{id}/download")).await, StatusCode::CONFLICT, "task_not_finished").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_idempotency_key_twice_creates_one_task() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "i.png", 40, 30).await;
    let body = json!({"images": [image], "steps": resize_png()});
    let key = [("Idempotency-Key", "order-42")];
    let first = json_body(app.create_task_with(&token, &body, &key).await, StatusCode::ACCEPTED).await;
    let again = json_body(app.create_task_with(&token, &body, &key).await, StatusCode::OK).await;
    assert_eq!(first["id"], again["id"], "the replay answers with the same task");
    let other = json!({"images": [image], "steps": [{"op": RESIZE, "width": 21}]});
    assert_error(app.create_task_with(&token, &other, &key).await, StatusCode::CONFLICT, "conflict").await;
    // Keys are per tenant: bob's "order-42" is his own task.
    let bob = app.token("bob");
    let bobs_image = app.upload_png(&bob, "b.png", 40, 30).await;
    let bobs =
        json_body(app.create_task_with(&bob, &json!({"images": [bobs_image], "steps": resize_png()}), &key).await, StatusCode::ACCEPTED)
            .await;
    assert_ne!(bobs["id"], first["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_image_and_chain_twice_reuses_the_result_and_says_cached() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "same.png", 40, 30).await;
    let first = start_task(&app, &token, std::slice::from_ref(&image), resize_png()).await;
    let first_events = full_history(&app, &token, &first).await;
    assert!(of_type(&first_events, "step.succeeded").iter().all(|e| e["cached"].is_null()), "the first run really runs");
    // The same chain spelled differently (explicit default filter) is the same normalised chain.
    let respelled = json!([{"op": RESIZE, "width": 20, "filter": "lanczos3"}, {"op": ENCODE, "format": "png"}]);
    let second = start_task(&app, &token, &[image], respelled).await;
    let events = full_history(&app, &token, &second).await;
    assert_eq!(types(&events), ["task.queued", "step.succeeded", "step.succeeded", "task.succeeded"], "nothing ran: {events:#?}");
    assert!(of_type(&events, "step.succeeded").iter().all(|e| e["cached"] == true), "{events:#?}");
    assert_eq!(download(&app, &token, &first).await, download(&app, &token, &second).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn presets_are_listed_and_run_like_their_steps() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let listed = json_body(app.get(Some(&token), "/presets").await, StatusCode::OK).await;
    let names: Vec<&str> = listed["presets"].as_array().expect("presets").iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(names.contains(&"thumbnail") && names.contains(&"web"), "{listed:#}");
    let image = app.upload_png(&token, "p.png", 600, 400).await;
    let task = json_body(app.create_task(&token, &json!({"images": [image], "preset": "thumbnail"})).await, StatusCode::ACCEPTED).await;
    let done = app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let thumb = decode_as(&download(&app, &token, task["id"].as_str().expect("id")).await, ImageFormat::WebP);
    assert_eq!((thumb.width(), thumb.height()), (256, 256));
    let unknown = app.create_task(&token, &json!({"images": [image], "preset": "poster"})).await;
    assert_error(unknown, StatusCode::BAD_REQUEST, "invalid_chain").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_is_received_once_and_its_signature_verifies() {
    let app = TestApp::spawn_with(&[("WEBHOOK_ALLOW_LOOPBACK", "1")]).await;
    let token = app.token("alice");
    let mut receiver = Receiver::start().await;
    let image = app.upload_png(&token, "h.png", 40, 30).await;
    let private = json!({"images": [image], "steps": resize_png(), "webhook": "https://10.0.0.1/hook"});
    assert_error(app.create_task(&token, &private).await, StatusCode::BAD_REQUEST, "invalid_request").await;
    let body = json!({"images": [image], "steps": resize_png(), "webhook": receiver.url});
    let task = json_body(app.create_task(&token, &body).await, StatusCode::ACCEPTED).await;
    let id = task["id"].as_str().expect("id");

    let hook = receiver.next(TASK_DEADLINE).await;
    assert_eq!((hook.method.as_str(), hook.path.as_str()), ("POST", "/hook"));
    assert_eq!(hook.headers.get("stellar-event").map(String::as_str), Some("task.succeeded"));
    let signature = hook.headers.get("stellar-signature").expect("a signature header");
    let (t, v1) = signature.split_once(",v1=").expect("t=…,v1=…");
    let mut mac = Hmac::<Sha256>::new_from_slice(dev_var("WEBHOOK_SECRET").as_bytes()).expect("key");
    mac.update(format!("{}.{}", t.trim_start_matches("t="), hook.body).as_bytes());
    mac.verify_slice(&hex_decode(v1)).expect("the signature verifies with WEBHOOK_SECRET");
    let sent: Value = serde_json::from_str(&hook.body).expect("the body is the task object");
    assert_eq!((sent["id"].as_str(), sent["status"].as_str()), (Some(id), Some("succeeded")));
    // The task is over and delivered: reading it back gives the receiver nothing more.
    app.wait_for_task(&token, id, TASK_DEADLINE).await;
    assert!(receiver.pending().is_empty(), "delivered exactly once");
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}
