//! Outages of the task object's own dependencies — the queue refusing a send, the tenant index
//! refusing a write — injected through `FAULT_INJECTION`: the task is still created, listed,
//! run to its end, and its listing catches up with it.

use crate::support::*;
use functions::registry::{ENCODE, RESIZE};
use futures_util::StreamExt;
use image::ImageFormat;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The task's row in `GET /tasks`, if it has one.
async fn listed(app: &TestApp, token: &str, id: &str) -> Option<Value> {
    let page = json_body(app.get(Some(token), "/tasks").await, StatusCode::OK).await;
    page["items"].as_array().expect("items").iter().find(|row| row["id"] == id).cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_whose_first_queue_send_fails_is_listed_and_still_finishes() {
    // A short step timeout: the watchdog re-sends the lost job two seconds after creation. The
    // first job goes through the queue here, not to the creating request (see inline.rs).
    let vars = [("FAULT_INJECTION", "send_fail=1"), ("STEP_TIMEOUT_SECONDS", "2"), ("INLINE_FIRST_JOB", "0")];
    let app = TestApp::spawn_with(&vars).await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "s.png", 40, 30).await;
    let task = app.run_chain(&token, &image, json!([{"op": RESIZE, "width": 20}, {"op": ENCODE, "format": "png"}])).await;
    let id = task["id"].as_str().expect("id");
    // The row is written before the 202, send failure or not.
    let row = listed(&app, &token, id).await.unwrap_or_else(|| panic!("{id} is not listed right after its 202"));
    assert_eq!(row["status"], "queued", "{row}");

    let done = app.wait_for_task(&token, id, TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(done["steps"][0]["attempts"], 1, "a re-sent message is not a retry: {done:#}");
    assert_eq!(decode_as(&download(&app, &token, id).await, ImageFormat::Png).width(), 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listing_whose_index_writes_fail_still_ends_with_the_terminal_status() {
    // Both writes of a one-step task fail (at creation and at its end); the webhook's report
    // then re-points the alarm, which must keep the retry of the index write.
    let app = TestApp::spawn_with(&[("FAULT_INJECTION", "index_fail=2"), ("WEBHOOK_ALLOW_LOOPBACK", "1")]).await;
    let token = app.token("alice");
    let mut receiver = Receiver::start().await;
    let image = app.upload_png(&token, "i.png", 40, 30).await;
    let body = json!({"images": [image], "steps": [{"op": RESIZE, "width": 20}], "webhook": receiver.url});
    let task = json_body(app.create_task(&token, &body).await, StatusCode::ACCEPTED).await;
    let id = task["id"].as_str().expect("id");
    let hook = receiver.next(TASK_DEADLINE).await;
    assert_eq!(hook.headers.get("stellar-event").map(String::as_str), Some("task.succeeded"));

    let deadline = Instant::now() + TASK_DEADLINE;
    loop {
        let row = listed(&app, &token, id).await;
        if row.as_ref().is_some_and(|r| r["status"] == "succeeded") {
            break;
        }
        assert!(Instant::now() < deadline, "the listing never caught up with the succeeded task: {row:?}");
        // Short poll interval inside the deadline loop; the condition is the row above.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_200_tasks_behind_one_consumer_all_succeed_on_their_first_attempt() {
    // Each step pauses 50 ms, so the burst queues for far longer than the 2 s a running step
    // may stay silent. Waiting in the queue is not silence: no message may be re-sent (a
    // re-send only lengthens the backlog), no task may fail as "never picked up".
    let vars = [("STEP_TIMEOUT_SECONDS", "2"), ("FAULT_INJECTION", "pause=50"), ("RATE_LIMIT_PER_MINUTE", "100000")];
    let app = TestApp::spawn_with(&vars).await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "burst.png", 300, 200).await;
    // Distinct widths: identical requests would reuse one result instead of queueing work.
    let create = |i: u64| {
        let body = json!({"images": [image], "steps": [{"op": RESIZE, "width": 20 + i}, {"op": ENCODE, "format": "png"}]});
        let (app, token) = (&app, &token);
        async move { json_body(app.create_task(token, &body).await, StatusCode::ACCEPTED).await["id"].as_str().expect("id").to_string() }
    };
    let started = Instant::now();
    let ids: Vec<String> = futures_util::stream::iter(0..200).map(create).buffer_unordered(16).collect().await;
    for (n, id) in ids.iter().enumerate() {
        let task = app.wait_for_task(&token, id, Duration::from_secs(180)).await;
        assert_eq!(task["status"], "succeeded", "task {n} after {:?}: {task:#}", started.elapsed());
        assert_eq!(task["steps"][0]["attempts"], 1, "{task:#}");
    }
    // The burst did queue longer than the step timeout, or the test proved nothing.
    assert!(started.elapsed() > Duration::from_secs(4), "the backlog drained in {:?}", started.elapsed());
}
