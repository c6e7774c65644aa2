//! `GET /usage` and `MAX_STORAGE_BYTES_PER_TENANT`: the counters follow uploads, tasks and
//! deletes, and a tenant at its quota gets 403 `quota_exceeded` with nothing stored.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Polls `GET /usage` until `done` holds (a task's end reaches the counters with its listing
/// snapshot, which may land just after the task reads as finished).
async fn usage_until(app: &TestApp, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + TASK_DEADLINE;
    loop {
        let usage = json_body(app.get(Some(token), "/usage").await, StatusCode::OK).await;
        if done(&usage) {
            return usage;
        }
        assert!(Instant::now() < deadline, "usage never reached the expected figures: {usage:#}");
        // Short poll interval inside the deadline loop; the condition is `done` above.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_counts_images_bytes_tasks_and_steps_and_releases_them_on_delete() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let fresh = json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await;
    assert_eq!(
        fresh,
        json!({"images": 0, "bytes_stored": 0, "tasks": {"total": 0, "succeeded": 0, "failed": 0}, "steps_run": 0, "step_ms": 0,
               "quota": {"bytes_stored": null}})
    );

    let (a, b) =
        (app.upload_ok(&token, png_fixture(40, 30), "image/png").await, app.upload_ok(&token, png_fixture(8, 8), "image/png").await);
    let originals = n(&a["bytes"]) + n(&b["bytes"]);
    let usage = json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await;
    assert_eq!((n(&usage["images"]), n(&usage["bytes_stored"])), (2, originals));

    let steps = json!([{"op": "resize", "width": 20}, {"op": "encode", "format": "png"}]);
    let task = app.run_chain(&token, a["id"].as_str().expect("id"), steps).await;
    let done = app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let output = n(&done["outputs"][0]["bytes"]);
    let usage = usage_until(&app, &token, |u| u["tasks"]["succeeded"] == 1).await;
    assert_eq!(usage["tasks"], json!({"total": 1, "succeeded": 1, "failed": 0}));
    assert_eq!(n(&usage["bytes_stored"]), originals + output, "originals plus the task's output: {usage}");
    assert_eq!(n(&usage["steps_run"]), 2);
    let step_ms: u64 = done["steps"].as_array().expect("steps").iter().map(|s| n(&s["duration_ms"])).sum();
    assert_eq!(n(&usage["step_ms"]), step_ms, "the steps' durations as the task reports them");

    let deleted = send(app.request(Method::DELETE, &format!("/images/{}", a["id"].as_str().expect("id")), Some(&token))).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let usage = json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await;
    assert_eq!((n(&usage["images"]), n(&usage["bytes_stored"])), (1, n(&b["bytes"])), "the original and its task's output released");
    assert_eq!(usage["tasks"]["total"], 1, "task history is not storage: it stays counted");

    let other = json_body(app.get(Some(&app.token("bob")), "/usage").await, StatusCode::OK).await;
    assert_eq!(other["images"], 0, "usage is per tenant");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_at_its_quota_is_refused_uploads_and_tasks_with_the_figures_and_nothing_stored() {
    let first = png_fixture(64, 64);
    // Room for the first original and a little more, never for a second one.
    let quota = first.len() as u64 + 100;
    let app = TestApp::spawn_with(&[("MAX_STORAGE_BYTES_PER_TENANT", &quota.to_string())]).await;
    let token = app.token("alice");
    let image = app.upload_ok(&token, first, "image/png").await;

    let refused =
        assert_error(app.upload(Some(&token), png_fixture(64, 64), "image/png").await, StatusCode::FORBIDDEN, "quota_exceeded").await;
    let message = refused["message"].as_str().expect("message");
    assert!(message.contains(&quota.to_string()) && message.contains(&image["bytes"].to_string()), "names the figures: {message}");
    let listing = json_body(app.get(Some(&token), "/images").await, StatusCode::OK).await;
    assert_eq!(listing["items"].as_array().map(Vec::len), Some(1), "the refused upload is not stored: {listing}");
    let usage = json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await;
    assert_eq!((usage["bytes_stored"].clone(), usage["quota"]["bytes_stored"].clone()), (image["bytes"].clone(), json!(quota)));

    // Below the quota a task runs; its output takes the tenant over, so the next one is refused.
    let id = image["id"].as_str().expect("id");
    let task = app.run_chain(&token, id, json!([{"op": "encode", "format": "png"}])).await;
    let done = app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    usage_until(&app, &token, |u| n(&u["bytes_stored"]) > quota).await;
    let body = json!({"images": [id], "steps": [{"op": "grayscale"}, {"op": "encode", "format": "png"}]});
    let refused = assert_error(app.create_task(&token, &body).await, StatusCode::FORBIDDEN, "quota_exceeded").await;
    assert!(refused["message"].as_str().is_some_and(|m| m.contains(&quota.to_string())), "{refused}");
    let tasks = json_body(app.get(Some(&token), "/tasks").await, StatusCode::OK).await;
    assert_eq!(tasks["items"].as_array().map(Vec::len), Some(1), "the refused task was not created: {tasks}");
    json_body(app.get(Some(&app.token("bob")), "/usage").await, StatusCode::OK).await;
    app.upload_ok(&app.token("bob"), png_fixture(8, 8), "image/png").await;
}
