//! `GET /usage` and `MAX_STORAGE_BYTES_PER_TENANT`: the counters follow uploads, tasks and
//! deletes, a tenant at its quota gets 403 `quota_exceeded` with nothing stored, and tasks
//! created together are admitted only while their planned bounds fit together.

use crate::support::*;
use functions::{plan, stored, Chain};
use futures_util::future::join_all;
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
               "reserved": 0, "quota": {"bytes_stored": null}})
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
    // Room beside the first original for a tiny output's planned bound (2 KiB of format
    // overhead and a few bytes a pixel), never for a second upload or a full-size output.
    const ROOM: u64 = 3000;
    let quota = first.len() as u64 + ROOM;
    let app = TestApp::spawn_with(&[("MAX_STORAGE_BYTES_PER_TENANT", &quota.to_string())]).await;
    let token = app.token("alice");
    let image = app.upload_ok(&token, first, "image/png").await;

    let second = jpeg_fixture(200, 200);
    assert!(second.len() as u64 > ROOM, "the second upload must not fit: {} bytes", second.len());
    let refused = assert_error(app.upload(Some(&token), second, "image/jpeg").await, StatusCode::FORBIDDEN, "quota_exceeded").await;
    let message = refused["message"].as_str().expect("message");
    assert!(message.contains(&quota.to_string()) && message.contains(&image["bytes"].to_string()), "names the figures: {message}");
    let listing = json_body(app.get(Some(&token), "/images").await, StatusCode::OK).await;
    assert_eq!(listing["items"].as_array().map(Vec::len), Some(1), "the refused upload is not stored: {listing}");
    let usage = json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await;
    assert_eq!((usage["bytes_stored"].clone(), usage["quota"]["bytes_stored"].clone()), (image["bytes"].clone(), json!(quota)));

    // A task whose outputs' planned bound fits runs.
    let id = image["id"].as_str().expect("id");
    let small = json!([{"op": "resize", "width": 8}, {"op": "encode", "format": "gif"}]);
    let task = app.run_chain(&token, id, small).await;
    let done = app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let stored = n(&image["bytes"]) + n(&done["outputs"][0]["bytes"]);
    usage_until(&app, &token, |u| n(&u["bytes_stored"]) == stored).await;

    // One whose full-size PNG could pass the quota is refused before it exists, with the
    // figures, although the tenant is below its quota (its real output might have fitted).
    let body = json!({"images": [id], "steps": [{"op": "grayscale"}, {"op": "encode", "format": "png"}]});
    let refused = assert_error(app.create_task(&token, &body).await, StatusCode::FORBIDDEN, "quota_exceeded").await;
    let message = refused["message"].as_str().expect("message");
    assert!(message.contains(&quota.to_string()) && message.contains(&stored.to_string()), "names the figures: {message}");
    assert!(message.contains("planned upper bound"), "{message}");
    let tasks = json_body(app.get(Some(&token), "/tasks").await, StatusCode::OK).await;
    assert_eq!(tasks["items"].as_array().map(Vec::len), Some(1), "the refused task was not created: {tasks}");
    let usage = json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await;
    assert_eq!((n(&usage["bytes_stored"]), usage["tasks"]["total"].clone()), (stored, json!(1)), "nothing stored: {usage}");
    app.upload_ok(&app.token("bob"), png_fixture(8, 8), "image/png").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_recomputes_usage_from_index_rows_that_were_never_counted() {
    let app = TestApp::spawn_with(&[("BENCH_ROUTES", "1")]).await;
    let token = app.token("alice");
    let image = app.upload_ok(&token, png_fixture(40, 30), "image/png").await;
    let task = app.run_chain(&token, image["id"].as_str().expect("id"), json!([{"op": "grayscale"}])).await;
    app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    let counted = usage_until(&app, &token, |u| u["tasks"]["succeeded"] == 1).await;

    // Rows written without counting them, as an index from before usage tracking holds them
    // (the benchmark seed adds images of 67 bytes to the index only).
    let seeded = send(app.request(Method::POST, "/__bench/seed?count=3", Some(&token))).await;
    assert_eq!(seeded.status(), StatusCode::OK);
    assert_eq!(json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await, counted, "the seed is not counted");

    let request = |who: &str| app.request(Method::POST, "/admin/usage", Some(who)).json(&json!({"tenant": "alice"}));
    assert_error(send(request(&token)).await, StatusCode::NOT_FOUND, "not_found").await;
    let admin = jwt(&json!({"alg": "HS256", "typ": "JWT"}), &json!({"sub": "ops", "role": "admin", "exp": unix_now() + 600}), app.secret());
    let done = json_body(send(request(&admin)).await, StatusCode::OK).await;
    let mut expected = counted.clone();
    expected.as_object_mut().expect("usage").remove("quota");
    assert_eq!(done["before"], expected, "{done:#}");
    expected["images"] = json!(4);
    expected["bytes_stored"] = json!(n(&counted["bytes_stored"]) + 3 * 67);
    assert_eq!(done["after"], expected, "the seeded rows counted, the rest unchanged: {done:#}");
    assert_eq!(done["tasks_charged"], 0, "the task was charged when it ended");
    let usage = json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await;
    assert_eq!((usage["images"].clone(), usage["bytes_stored"].clone()), (expected["images"].clone(), expected["bytes_stored"].clone()));

    let again = json_body(send(request(&admin)).await, StatusCode::OK).await;
    assert_eq!(again["before"], again["after"], "a second recompute changes nothing: {again:#}");
}

/// The planned upper bound `POST /tasks` reserves for `steps` over one image `original`,
/// computed by the same planner the Worker uses (`functions::stored`).
fn planned_bound(original: &[u8], steps: &Value) -> u64 {
    let info = functions::format::probe(original).expect("probe the fixture");
    let chain = Chain::parse(steps).expect("a valid chain");
    let limits = plan::Limits { max_pixels: 1 << 26, memory_budget: 1 << 30 };
    let output = plan::plan(&info, original.len() as u64, &chain, limits).expect("plan").output;
    stored::task_bound(&[stored::output_bound(&info, &chain, output)])
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_created_together_near_the_quota_are_admitted_only_while_their_bounds_fit_together() {
    let original = png_fixture(64, 64);
    let steps = json!([{"op": "resize", "width": 8}, {"op": "encode", "format": "gif"}]);
    let bound = planned_bound(&original, &steps);
    // Room for two and a half bounds beside the original: each task fits alone, two together.
    let quota = original.len() as u64 + bound * 5 / 2;
    // Every step waits 3 s before it runs, so no admitted task ends (and frees room) while the
    // others are still being admitted; the `reserved` figure below checks that it held.
    let app = TestApp::spawn_with(&[("MAX_STORAGE_BYTES_PER_TENANT", &quota.to_string()), ("FAULT_INJECTION", "pause=3000")]).await;
    let token = app.token("alice");
    let image = app.upload_ok(&token, original, "image/png").await;
    let body = json!({"images": [image["id"]], "steps": steps});

    let answers = join_all((0..5).map(|_| app.create_task(&token, &body))).await;
    let (mut accepted, mut refused) = (Vec::new(), Vec::new());
    for answer in answers {
        match answer.status() {
            StatusCode::ACCEPTED => accepted.push(json_body(answer, StatusCode::ACCEPTED).await),
            _ => refused.push(assert_error(answer, StatusCode::FORBIDDEN, "quota_exceeded").await),
        }
    }
    let usage = json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await;
    assert_eq!(usage["tasks"]["succeeded"], 0, "no admitted task ended during the burst: {usage}");
    assert!(n(&image["bytes"]) + accepted.len() as u64 * bound <= quota, "the admitted bounds sum within the quota: {}", accepted.len());
    assert_eq!((accepted.len(), refused.len()), (2, 3), "as many as fit together are admitted: {refused:?}");
    assert_eq!(n(&usage["reserved"]), accepted.len() as u64 * bound, "every admitted task holds its bound: {usage}");
    for refusal in &refused {
        let message = refusal["message"].as_str().expect("message");
        let figures = [bound, n(&image["bytes"]), 2 * bound, quota];
        assert!(figures.iter().all(|f| message.contains(&f.to_string())), "names bound, stored, reserved, quota {figures:?}: {message}");
    }

    // Once the admitted tasks end, their real outputs replace their bounds.
    let mut outputs = 0;
    for task in &accepted {
        let done = app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
        assert_eq!(done["status"], "succeeded", "{done:#}");
        outputs += n(&done["outputs"][0]["bytes"]);
    }
    let stored = n(&image["bytes"]) + outputs;
    let usage = usage_until(&app, &token, |u| n(&u["bytes_stored"]) == stored).await;
    assert_eq!(usage["reserved"], 0, "the reservations are released: {usage}");
    assert!(stored + bound <= quota, "a task of the same bound fits beside the real outputs");
    let again = app.run_chain(&token, image["id"].as_str().expect("id"), steps).await;
    app.wait_for_task(&token, again["id"].as_str().expect("id"), TASK_DEADLINE).await;
}
