//! Redelivery of every queue message (`FAULT_INJECTION=duplicate`: each step, zip and webhook
//! message is sent twice) against an undisturbed twin server: the same outputs byte for byte
//! and the same event streams, so a second delivery has no visible effect at all.

use crate::support::*;
use functions::registry::{BLUR, ENCODE, GRAYSCALE, RESIZE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What a client can see of one task: its event streams (see `event_streams`) and its outputs.
#[derive(Debug, PartialEq)]
struct Seen {
    streams: BTreeMap<String, Vec<Value>>,
    outputs: Vec<(String, Vec<u8>)>,
}

/// The same uploads and tasks on any server: a four-step chain on one image, a preset, and a
/// three-image task that downloads as a zip.
async fn run_tasks(app: &TestApp) -> Vec<Seen> {
    let token = app.token("alice");
    let mut images = Vec::new();
    for (i, (w, h)) in [(160, 120), (90, 200), (64, 64)].into_iter().enumerate() {
        images.push(app.upload_png(&token, &format!("r{i}.png"), w, h).await);
    }
    let four = json!([{"op": RESIZE, "width": 80}, {"op": BLUR, "sigma": 1.5}, {"op": GRAYSCALE}, {"op": ENCODE, "format": "png"}]);
    let bodies = [
        json!({"images": [images[0]], "steps": four}),
        json!({"images": [images[1]], "preset": "thumbnail"}),
        json!({"images": images, "steps": [{"op": RESIZE, "width": 40}, {"op": ENCODE, "format": "webp"}]}),
    ];
    let mut seen = Vec::new();
    for body in bodies {
        let task = json_body(app.create_task(&token, &body).await, StatusCode::ACCEPTED).await;
        let id = task["id"].as_str().expect("id");
        let events = full_history(app, &token, id).await;
        assert_eq!(types(&events).last(), Some(&"task.succeeded"), "{events:#?}");
        let ids: Vec<String> = body["images"].as_array().expect("images").iter().map(|i| i.as_str().expect("id").to_string()).collect();
        let bytes = download(app, &token, id).await;
        let outputs = if ids.len() > 1 { zip_entries(&bytes) } else { vec![("single".to_string(), bytes)] };
        seen.push(Seen { streams: event_streams(&events, &ids), outputs });
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn every_message_delivered_twice_gives_the_outputs_and_events_of_an_undisturbed_run() {
    let (calm, twice) = tokio::join!(TestApp::spawn(), TestApp::spawn_with(&[("FAULT_INJECTION", "duplicate")]));
    let (expected, seen) = tokio::join!(run_tasks(&calm), run_tasks(&twice));
    for (n, (want, got)) in expected.iter().zip(&seen).enumerate() {
        assert!(got.outputs == want.outputs, "task {n}: outputs differ from the undisturbed run");
        assert_eq!(got.streams, want.streams, "task {n}: events differ from the undisturbed run");
    }
    // The comparison covered real work: every image ran its steps, nothing came from a cache.
    let steps: usize =
        seen.iter().flat_map(|s| s.streams.values()).flatten().filter(|e| e["type"] == "step.succeeded" && e["cached"].is_null()).count();
    assert_eq!(steps, 4 + 3 + 3 * 2, "steps run: 4 of the chain, 3 of the thumbnail preset, 2 for each of 3 images");
}
