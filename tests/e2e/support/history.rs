//! Reading a task's whole story: its event history over the WebSocket (gap-free, closed with
//! 1000) and its download.

use super::{collect_events, TestApp, TASK_DEADLINE};
use reqwest::StatusCode;
use serde_json::Value;

/// The close code of a normal WebSocket closure.
pub const NORMAL_CLOSURE: u16 = 1000;

/// Asserts `seq` runs 1..=n without gaps and every event names `task`.
pub fn assert_gap_free(events: &[Value], task: &str, first_seq: u64) {
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["seq"], first_seq + i as u64, "event {i} out of sequence in {events:#?}");
        assert_eq!(event["task"], task, "event {i} belongs to another task in {events:#?}");
    }
}

/// Each event as "type" or "type@step:op", so a whole history compares in one assertion.
pub fn shape(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e["type"].as_str().unwrap_or("?") {
            t if t.starts_with("step.") => format!("{t}@{}:{}", e["step"], e["op"].as_str().unwrap_or("?")),
            t => t.to_string(),
        })
        .collect()
}

/// Runs a task to its end over the WebSocket, asserting the normal closure; returns all events.
pub async fn full_history(app: &TestApp, token: &str, task: &str) -> Vec<Value> {
    let (events, close) = collect_events(app.ws(token, task, None).await, TASK_DEADLINE).await;
    assert_eq!(close, Some(NORMAL_CLOSURE), "close after the terminal event; events: {events:#?}");
    assert_gap_free(&events, task, 1);
    events
}

pub async fn download(app: &TestApp, token: &str, task: &str) -> Vec<u8> {
    let resp = app.get(Some(token), &format!("/tasks/{task}/download")).await;
    assert_eq!(resp.status(), StatusCode::OK, "download of {task}");
    let disposition = resp.headers().get("content-disposition").map(|v| v.to_str().unwrap_or_default().to_string());
    assert!(disposition.as_deref().is_some_and(|d| d.starts_with("attachment")), "content-disposition: {disposition:?}");
    assert!(resp.headers().contains_key("etag"), "the download has an ETag");
    resp.bytes().await.expect("read the download").to_vec()
}

/// The event types in order.
pub fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap_or("?")).collect()
}

/// Events of one type.
pub fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}
