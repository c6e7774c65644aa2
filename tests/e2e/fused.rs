//! An image's steps run in one job: a job that dies mid-chain is retried from the original (or
//! from its last checkpoint) and still reports every step exactly once as succeeded, with the
//! same result as a run that never failed.

use crate::support::*;
use functions::registry::{BLUR, ENCODE, GRAYSCALE, RESIZE};
use functions::session::run_chain;
use functions::Chain;
use image::ImageFormat;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;

fn three_steps() -> Value {
    json!([{"op": RESIZE, "width": 120}, {"op": BLUR, "sigma": 1.5}, {"op": GRAYSCALE}, {"op": ENCODE, "format": "png"}])
}

/// What the chain gives when nothing fails, computed natively by the same imaging core.
fn expected(source: Vec<u8>, steps: &Value) -> image::DynamicImage {
    let chain = Chain::parse(steps).expect("a valid chain");
    let limits = functions::plan::Limits { max_pixels: 1 << 26, memory_budget: 1 << 30 };
    let out = run_chain(&chain, source, limits, &HashMap::new()).expect("the chain runs natively");
    decode_as(&out.bytes, ImageFormat::Png)
}

/// Every step's first attempt dies without a report; each retry must get the right input.
async fn dies_once_per_step_and_still_finishes(vars: &[(&str, &str)]) {
    let app = TestApp::spawn_with(vars).await;
    let token = app.token("alice");
    let source = png_fixture(400, 300);
    let image = app.upload_ok(&token, source.clone(), "image/png").await["id"].as_str().expect("id").to_string();
    let body = json!({"images": [image], "steps": three_steps()});
    let id = json_body(app.create_task(&token, &body).await, StatusCode::ACCEPTED).await["id"].as_str().expect("id").to_string();
    let events = full_history(&app, &token, &id).await;
    assert_eq!(types(&events).last(), Some(&"task.succeeded"), "{events:#?}");
    for step in 0..4u64 {
        let of_step = |kind: &str| of_type(&events, kind).into_iter().filter(|e| e["step"] == step).count();
        assert_eq!((of_step("step.started"), of_step("step.retrying"), of_step("step.succeeded")), (2, 1, 1), "step {step}: {events:#?}");
    }
    let got = decode_as(&download(&app, &token, &id).await, ImageFormat::Png);
    let want = expected(source, &three_steps());
    assert_eq!((got.width(), got.height()), (want.width(), want.height()));
    assert_eq!(got.to_luma8().into_raw(), want.to_luma8().into_raw(), "the retried steps worked on the right pixels");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_dying_mid_chain_is_retried_from_the_original_and_gives_the_same_result() {
    dies_once_per_step_and_still_finishes(&[("FAULT_INJECTION", "die=1"), ("STEP_TIMEOUT_SECONDS", "2")]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_checkpoint_after_every_step_a_retry_resumes_there_with_the_same_result() {
    let vars = [("FAULT_INJECTION", "die=1"), ("STEP_TIMEOUT_SECONDS", "2"), ("CHECKPOINT_AFTER_MS", "0")];
    dies_once_per_step_and_still_finishes(&vars).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_result_stored_by_an_attempt_whose_report_was_lost_is_reported_by_the_retry_without_its_input() {
    // The last step's first attempt stores the result and never reports it. Its original is
    // then deleted (another image keeps the same bytes, so results derived from them stay):
    // a retry that redid the work would find no input and fail; one that finds the stored
    // result reports it.
    let app = TestApp::spawn_with(&[("FAULT_INJECTION", "lose_report=1"), ("STEP_TIMEOUT_SECONDS", "2")]).await;
    let token = app.token("alice");
    let bytes = png_fixture(120, 90);
    let image = app.upload_ok(&token, bytes.clone(), "image/png").await;
    app.upload_ok(&token, bytes, "image/png").await;
    let id = image["id"].as_str().expect("id");
    let steps = json!([{"op": GRAYSCALE}, {"op": RESIZE, "width": 60}, {"op": ENCODE, "format": "png"}]);
    let task = app.run_chain(&token, id, steps).await;
    let task_id = task["id"].as_str().expect("task id");
    let deadline = std::time::Instant::now() + TASK_DEADLINE;
    loop {
        // The first steps are reported, so the job has its input in memory already.
        let now = json_body(app.get(Some(&token), &format!("/tasks/{task_id}")).await, StatusCode::OK).await;
        if now["steps"][1]["status"] == "succeeded" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the first steps never finished: {now:#}");
        // Short poll interval inside the deadline loop; the condition is the step status above.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let deleted = app.request(reqwest::Method::DELETE, &format!("/images/{id}"), Some(&token)).send().await.expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let done = app.wait_for_task(&token, task_id, TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(done["steps"][2]["attempts"], 2, "the retry reported the stored result: {done:#}");
    assert_eq!((done["outputs"][0]["width"].as_u64(), done["outputs"][0]["content_type"].as_str()), (Some(60), Some("image/png")));
}
