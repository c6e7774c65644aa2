//! End-to-end tests of the first job handed to the request that created the task
//! (`INLINE_FIRST_JOB`, on by default): it runs there and the rest goes through the queue; with
//! it off, everything goes through the queue; a creator that never runs it is covered by the
//! watchdog (the step timeout, then a retry through the queue). Which runner ran a job is read from the consumer's `"event":"job"` log lines.

use crate::support::*;
use functions::registry::{ENCODE, OIL, RESIZE};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// The `via` of each job log line about task `id`, keyed by (image, step), once there are `n`.
async fn runners(app: &TestApp, id: &str, n: usize) -> Vec<((u64, u64), String)> {
    let deadline = Instant::now() + TASK_DEADLINE;
    loop {
        let mut seen: Vec<((u64, u64), String)> = app
            .server_log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l.get(l.find('{')?..)?).ok())
            .filter(|v| v["event"] == "job" && v["task"] == id)
            .map(|v| ((v["image"].as_u64().unwrap_or(99), v["step"].as_u64().unwrap_or(99)), v["via"].as_str().unwrap_or("?").to_string()))
            .collect();
        if seen.len() >= n {
            seen.sort();
            return seen;
        }
        assert!(Instant::now() < deadline, "{} of {n} job lines about {id}: {seen:?}", seen.len());
        // Poll interval inside the deadline loop; the condition is the log lines above.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn chain() -> Value {
    json!([{"op": RESIZE, "width": 20}, {"op": ENCODE, "format": "png"}])
}

async fn two_image_task(app: &TestApp, token: &str) -> String {
    let images = [app.upload_png(token, "a.png", 40, 30).await, app.upload_png(token, "b.png", 30, 40).await];
    for id in &images {
        app.wait_analysed(token, id).await;
    }
    let task = app.create_task(token, &json!({"images": images, "steps": chain()})).await;
    let task = json_body(task, reqwest::StatusCode::ACCEPTED).await;
    let id = task["id"].as_str().expect("task id").to_string();
    let done = app.wait_for_task(token, &id, TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_tasks_first_job_runs_in_the_creating_request_and_the_others_through_the_queue() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let id = two_image_task(&app, &token).await;
    // Each image's steps run fused in one job.
    let seen = runners(&app, &id, 2).await;
    assert_eq!(seen, vec![((0, 0), "inline".to_string()), ((1, 0), "queue".to_string())], "only the first job is handed over");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_inline_first_job_off_every_job_goes_through_the_queue() {
    let app = TestApp::spawn_with(&[("INLINE_FIRST_JOB", "0")]).await;
    let token = app.token("alice");
    let id = two_image_task(&app, &token).await;
    let seen = runners(&app, &id, 2).await;
    assert_eq!(seen, vec![((0, 0), "queue".to_string()), ((1, 0), "queue".to_string())]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_job_its_creator_never_ran_is_retried_through_the_queue_by_the_watchdog() {
    // A short step timeout: the handed-over job's deadline (the shorter of it and 35 s).
    let app = TestApp::spawn_with(&[("FAULT_INJECTION", "inline_lost"), ("STEP_TIMEOUT_SECONDS", "5")]).await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "lost.png", 40, 30).await;
    app.wait_analysed(&token, &image).await;
    let task = app.run_chain(&token, &image, chain()).await;
    let id = task["id"].as_str().expect("task id");
    let done = app.wait_for_task(&token, id, TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    // The creation claimed it for the creator: the run that never came counts as attempt 1.
    assert_eq!(done["steps"][0]["attempts"], 2, "the lost run is retried as a new attempt: {done:#}");
    assert_eq!(runners(&app, id, 1).await, vec![((0, 0), "queue".to_string())]);
    assert_eq!(decode_as(&download(&app, &token, id).await, image::ImageFormat::Png).width(), 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_creating_request_answers_before_its_first_job_ends_even_when_the_client_accepts_gzip() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "heavy.png", 1600, 1200).await;
    app.wait_analysed(&token, &image).await;
    // A first step that keeps the isolate busy for seconds, as a big photo's steps do.
    let body = json!({"images": [image], "steps": [{"op": OIL, "radius": 10}, {"op": ENCODE, "format": "png"}]});
    let started = Instant::now();
    let answer = app.create_task_with(&token, &body, &[("accept-encoding", "gzip, deflate, br")]).await;
    let status = answer.status();
    let bytes = answer.bytes().await.expect("read the answer");
    let answered_ms = started.elapsed().as_millis() as u64;
    // Sent uncompressed (about 1 KiB): a compressor in front would hold it until the job ends.
    let task: Value = serde_json::from_slice(&bytes).expect("an uncompressed JSON answer");
    assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{task}");
    let id = task["id"].as_str().expect("task id");
    let done = app.wait_for_task(&token, id, TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(runners(&app, id, 1).await, vec![((0, 0), "inline".to_string())], "the first job ran in the creating request");
    // The step began after the request was sent, so an answer that took less than the step
    // lasted arrived while the step was still running.
    let step_ms = done["steps"][0]["duration_ms"].as_u64().expect("the first step's duration");
    assert!(answered_ms < step_ms, "the 202 came {answered_ms} ms after the request, the first step took {step_ms} ms");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_status_poll_sent_while_a_job_runs_is_answered_between_its_steps_not_after_the_job() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "busy.png", 800, 600).await;
    app.wait_analysed(&token, &image).await;
    // One job runs all four steps; each `oil` keeps the isolate busy for a while.
    let oil = json!({"op": OIL, "radius": 5});
    let body = json!({"images": [image], "steps": [oil, oil, oil, {"op": ENCODE, "format": "png"}]});
    let task = json_body(app.create_task(&token, &body).await, reqwest::StatusCode::ACCEPTED).await;
    let id = task["id"].as_str().expect("task id");
    // The socket opens, and step 0's end reaches it, while the job is still running.
    let mut ws = app.ws(&token, id, None).await;
    let deadline = Instant::now() + TASK_DEADLINE;
    let mut seen: Vec<Value> = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let event: Value = serde_json::from_str(text.as_str()).expect("an event is JSON");
                let step0_done = event["type"] == "step.succeeded" && event["step"] == 0;
                seen.push(event);
                if step0_done {
                    break;
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("the stream ended or timed out before step 0's end ({other:?}): {seen:#?}"),
        }
    }
    // Sent now, the poll finds steps still to run: the job let it in between its steps instead
    // of holding every request of the isolate until its last step.
    let polled = json_body(app.get(Some(&token), &format!("/tasks/{id}")).await, reqwest::StatusCode::OK).await;
    assert_eq!(polled["status"], "running", "{polled:#}");
    assert!(!seen.iter().any(|e| e["type"] == "task.succeeded"), "the task ended before step 0's event was read: {seen:#?}");
    let done = app.wait_for_task(&token, id, TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(runners(&app, id, 1).await, vec![((0, 0), "inline".to_string())], "one job ran the chain");
}
