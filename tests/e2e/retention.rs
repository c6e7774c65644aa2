//! Retention: the cron deletes the outputs of tasks that ended more than `RESULT_TTL_DAYS`
//! ago; their records stay (marked `expired_at`), their download answers 410 `expired`, and
//! originals stay. The cron's clock is moved by the test-only `FAULT_INJECTION` `clock_days`
//! (a restart on the same state), not by waiting.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// wrangler.toml's retention schedule (`RETENTION_CRON`).
const RETENTION: &str = "17 3 * * *";
/// The cron's clock, this many days on.
fn days_on(days: u32) -> String {
    format!("clock_days={days}")
}

async fn finished(app: &TestApp, token: &str, body: Value) -> String {
    let task = json_body(app.create_task(token, &body).await, StatusCode::ACCEPTED).await;
    let id = task["id"].as_str().expect("id").to_string();
    let done = app.wait_for_task(token, &id, TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn outputs_older_than_the_ttl_are_deleted_and_their_download_answers_410_while_originals_stay() {
    let mut app = TestApp::spawn_with(&[("FAULT_INJECTION", &days_on(29))]).await;
    let token = app.token("alice");
    let (a, b) = (app.upload_png(&token, "a.png", 32, 24).await, app.upload_png(&token, "b.png", 16, 16).await);
    let originals = json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await;
    let steps = json!([{"op": "grayscale"}, {"op": "encode", "format": "png"}]);
    let single = finished(&app, &token, json!({"images": [a], "steps": steps})).await;
    let zipped = finished(&app, &token, json!({"images": [a, b], "steps": [{"op": "encode", "format": "webp"}]})).await;

    // 29 days on, within the default 30: nothing expires.
    app.fire_cron(RETENTION).await;
    for task in [&single, &zipped] {
        let resp = app.get(Some(&token), &format!("/tasks/{task}/download")).await;
        assert_eq!(resp.status(), StatusCode::OK, "{task} is kept within the TTL");
    }

    // 31 days on: both tasks' outputs are gone, their records say so, the originals stay.
    app.restart_with(&[("FAULT_INJECTION", &days_on(31))]).await;
    app.fire_cron(RETENTION).await;
    for task in [&single, &zipped] {
        let error = assert_error(app.get(Some(&token), &format!("/tasks/{task}/download")).await, StatusCode::GONE, "expired").await;
        assert!(error["message"].as_str().is_some_and(|m| m.contains("RESULT_TTL_DAYS")), "{error}");
        let record = json_body(app.get(Some(&token), &format!("/tasks/{task}")).await, StatusCode::OK).await;
        assert_eq!(record["status"], "succeeded", "the record stays: {record:#}");
        assert!(record["expired_at"].as_str().is_some(), "the task knows it expired: {record:#}");
    }
    let listing = json_body(app.get(Some(&token), "/tasks").await, StatusCode::OK).await;
    let items = listing["items"].as_array().expect("items");
    assert!(items.len() == 2 && items.iter().all(|t| t["expired_at"].is_string()), "the listing shows it too: {listing:#}");
    for image in [&a, &b] {
        assert_eq!(app.get(Some(&token), &format!("/images/{image}/content")).await.status(), StatusCode::OK, "originals stay");
    }
    let usage = json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await;
    assert_eq!(usage["bytes_stored"], originals["bytes_stored"], "expired outputs leave bytes_stored");

    // The same chain again is not served from the deleted result: it runs and downloads.
    let again = finished(&app, &token, json!({"images": [a], "steps": steps})).await;
    assert_eq!(app.get(Some(&token), &format!("/tasks/{again}/download")).await.status(), StatusCode::OK);
    // Outside the TTL again, a second run expires the new task and leaves the marked ones be.
    app.fire_cron(RETENTION).await;
    assert_eq!(app.get(Some(&token), &format!("/tasks/{again}/download")).await.status(), StatusCode::GONE);
    assert_eq!(app.get(Some(&token), &format!("/tasks/{single}/download")).await.status(), StatusCode::GONE);
}
