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
