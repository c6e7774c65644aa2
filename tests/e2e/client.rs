//! The browser client (`public/studio-client.js`): served as a module, and — run in Node 22
//! with its real WebSocket — following a real task to its end, across a dropped connection.

use crate::support::*;
use functions::registry::{ENCODE, GRAYSCALE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn the_browser_client_is_served_as_a_javascript_module_without_a_token() {
    let app = TestApp::spawn().await;
    let resp = app.get(None, "/studio-client.js").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let content_type = resp.headers()["content-type"].to_str().expect("ascii").to_string();
    assert!(content_type.contains("javascript"), "{content_type}");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let body = resp.text().await.expect("body");
    for export in ["export function connectTask", "export function connectFeed"] {
        assert!(body.contains(export), "the module lacks `{export}`");
    }
}

/// Runs tests/js/follow.mjs on `links`: the events the client delivered, and its final state.
fn follow(links: &Value, drop_after: usize) -> (Vec<Value>, Value) {
    let out = Command::new("node_modules/.bin/node")
        .args(["tests/js/follow.mjs", &links.to_string(), &drop_after.to_string()])
        .output()
        .expect("run node (scripts/setup.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "follow.mjs failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    let (last, events) = lines.split_last().expect("a final state");
    (events.iter().map(|l| l["event"].clone()).collect(), last.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_browser_client_follows_a_task_across_a_dropped_socket_and_delivers_each_event_once() {
    // Steps slow enough that the client joins mid-chain and its socket is cut before the end.
    let app = TestApp::spawn_with(&[("FAULT_INJECTION", "pause=500")]).await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "client.png", 40, 30).await;
    let chain = json!([{"op": GRAYSCALE}, {"op": GRAYSCALE}, {"op": ENCODE, "format": "png"}]);
    let task = app.run_chain(&token, &image, chain).await;
    let id = task["id"].as_str().expect("id").to_string();
    // The node process blocks; run it off the async workers.
    let links = task["links"].clone();
    let (events, last) = tokio::task::spawn_blocking(move || follow(&links, 2)).await.expect("join");
    assert_eq!(last["state"], "closed");
    assert_eq!(last["reason"], "finished");
    assert!(last["connections"].as_u64().expect("count") >= 2, "the first socket was cut: {last}");
    assert_gap_free(&events, &id, 1);
    assert_eq!(events, full_history(&app, &token, &id).await, "every event once, in order");
}
