//! The foundation's end-to-end tests: upload → chain → live events → download, errors, tenancy.

use crate::support::*;
use functions::registry::{ENCODE, GRAYSCALE, RESIZE};
use image::ImageFormat;
use reqwest::StatusCode;
use serde_json::json;
use tokio_tungstenite::tungstenite::Error as WsError;

#[tokio::test(flavor = "multi_thread")]
async fn health_answers_ok_without_a_token() {
    let app = TestApp::spawn().await;
    let resp = app.get(None, "/health").await;
    assert!(resp.headers().contains_key("x-request-id"), "x-request-id on /health");
    let body = json_body(resp, StatusCode::OK).await;
    assert_eq!(body["status"], "ok", "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_health_checks_every_binding_and_names_the_build() {
    let app = TestApp::spawn().await;
    // Twice: the first check of a fresh bucket writes the R2 sentinel, the second reads it back.
    for _ in 0..2 {
        let body = json_body(app.get(None, "/health").await, StatusCode::OK).await;
        assert_eq!((body["status"].as_str(), body["deep"].as_bool()), (Some("ok"), Some(true)), "{body}");
        for check in ["config", "r2", "durable_objects", "queue"] {
            assert_eq!(body["checks"][check], "ok", "{check} in {body}");
        }
        assert_eq!(body["failing"], json!([]), "{body}");
        assert_eq!(body["checks"]["version"]["crate"], env!("CARGO_PKG_VERSION"), "{body}");
        // scripts/build.sh compiles in the commit (or GITHUB_SHA): 40 hex digits, not "unknown".
        let commit = body["checks"]["version"]["commit"].as_str().unwrap_or_default();
        assert!(commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()), "a build's commit: {body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shallow_health_for_load_balancers_checks_only_the_configuration() {
    let app = TestApp::spawn().await;
    let body = json_body(app.get(None, "/health?deep=0").await, StatusCode::OK).await;
    assert_eq!((body["status"].as_str(), body["deep"].as_bool()), (Some("ok"), Some(false)), "{body}");
    assert_eq!(body["checks"]["config"], "ok", "{body}");
    for binding in ["r2", "durable_objects", "queue"] {
        assert!(body["checks"].get(binding).is_none(), "{binding} is not called by ?deep=0: {body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn uploaded_image_runs_resize_grayscale_png_chain_and_streams_every_event_in_order() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");

    let image = app.upload_ok(&token, png_fixture(320, 240), "image/png").await;
    let id = image["id"].as_str().expect("image id");
    assert!(id.starts_with("img_"), "{image}");
    assert_eq!((image["format"].as_str(), image["content_type"].as_str()), (Some("png"), Some("image/png")), "{image}");
    assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(320), Some(240)), "{image}");
    assert!(image["bytes"].as_u64().is_some_and(|b| b > 0), "{image}");
    let sha = image["sha256"].as_str().unwrap_or_default();
    assert!(sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()), "sha256 is 64 hex chars: {image}");

    let steps = json!([{"op": RESIZE, "width": 64}, {"op": GRAYSCALE}, {"op": ENCODE, "format": "png"}]);
    let task = app.run_chain(&token, id, steps).await;
    let task_id = task["id"].as_str().unwrap();

    // No sleep before connecting: if the task already finished, since=0 replays all of it.
    let events = full_history(&app, &token, task_id).await;
    let mut expected = vec!["task.queued".to_string()];
    for (i, op) in [RESIZE, GRAYSCALE, ENCODE].iter().enumerate() {
        expected.push(format!("step.started@{i}:{op}"));
        expected.push(format!("step.succeeded@{i}:{op}"));
    }
    expected.push("task.succeeded".to_string());
    assert_eq!(shape(&events), expected, "event order; events: {events:#?}");

    let done = json_body(app.get(Some(&token), &format!("/tasks/{task_id}")).await, StatusCode::OK).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!((done["progress"]["done"].as_u64(), done["progress"]["total"].as_u64()), (Some(3), Some(3)), "{done:#}");
    assert_eq!(done["outputs"][0]["width"], 64, "{done:#}");

    let output = decode_as(&download(&app, &token, task_id).await, ImageFormat::Png).to_rgb8();
    assert_eq!(output.dimensions(), (64, 48), "resize keeps the aspect ratio");
    assert!(output.pixels().all(|p| p[0] == p[1] && p[1] == p[2]), "every output pixel is gray");
}

#[tokio::test(flavor = "multi_thread")]
async fn reconnecting_with_since_replays_only_later_events() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_ok(&token, png_fixture(64, 64), "image/png").await;
    let steps = json!([{"op": RESIZE, "width": 16}, {"op": ENCODE, "format": "png"}]);
    let task = app.run_chain(&token, image["id"].as_str().unwrap(), steps).await;
    let task_id = task["id"].as_str().unwrap();
    let history = full_history(&app, &token, task_id).await;
    assert!(history.len() > 2, "a two-step chain has more than two events: {history:#?}");

    let (replayed, close) = collect_events(app.ws(&token, task_id, Some(2)).await, TASK_DEADLINE).await;
    assert_eq!(close, Some(NORMAL_CLOSURE), "close after replaying a finished task");
    assert_gap_free(&replayed, task_id, 3);
    assert_eq!(replayed, history[2..], "since=2 replays exactly the events after seq 2");
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupt_upload_is_rejected_with_invalid_image() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let resp = app.upload(Some(&token), png_signature_then_junk(), "image/png").await;
    assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "invalid_image").await;

    // Unknown magic bytes: the declared content type does not make text an image.
    let resp = app.upload(Some(&token), b"hello world".to_vec(), "image/png").await;
    assert_error(resp, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_step_is_rejected_with_invalid_chain_naming_the_step() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_ok(&token, png_fixture(32, 32), "image/png").await;
    let id = image["id"].as_str().unwrap();

    let body = json!({"images": [id], "steps": [{"op": RESIZE, "width": 10}, {"op": "explode"}]});
    let error = assert_error(app.create_task(&token, &body).await, StatusCode::BAD_REQUEST, "invalid_chain").await;
    let message = error["message"].as_str().unwrap();
    assert!(message.contains('1') && message.contains("op"), "the message names step 1 and its op: {message}");

    let body = json!({"images": [id], "steps": [{"op": RESIZE, "width": 0}]});
    let error = assert_error(app.create_task(&token, &body).await, StatusCode::BAD_REQUEST, "invalid_chain").await;
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("width"), "the message names the field: {message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_without_a_token_get_401() {
    let app = TestApp::spawn().await;
    let resp = app.upload(None, png_fixture(8, 8), "image/png").await;
    assert_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_error(app.get(None, "/tasks/task_x").await, StatusCode::UNAUTHORIZED, "unauthorized").await;

    assert_error(app.get(Some("garbage"), "/tasks/task_x").await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Well-formed, but signed with another key.
    let forged = mint_token("alice", b"not-the-server-secret-not-the-server-secret");
    assert_error(app.get(Some(&forged), "/tasks/task_x").await, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn another_tenant_cannot_see_my_image_or_task() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.token("alice"), app.token("bob"));
    let image = app.upload_ok(&alice, png_fixture(32, 32), "image/png").await;
    let image_id = image["id"].as_str().unwrap();
    let task = app.run_chain(&alice, image_id, json!([{"op": ENCODE, "format": "png"}])).await;
    let task_id = task["id"].as_str().unwrap();
    assert_eq!(app.wait_for_task(&alice, task_id, TASK_DEADLINE).await["status"], "succeeded");

    // Existence must not leak: 404, never 403.
    for path in [
        format!("/images/{image_id}"),
        format!("/images/{image_id}/content"),
        format!("/tasks/{task_id}"),
        format!("/tasks/{task_id}/download"),
    ] {
        assert_error(app.get(Some(&bob), &path).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let body = json!({"images": [image_id], "steps": [{"op": GRAYSCALE}]});
    assert_error(app.create_task(&bob, &body).await, StatusCode::NOT_FOUND, "not_found").await;

    match app.try_ws(&bob, task_id, None).await {
        Err(WsError::Http(resp)) => assert_eq!(resp.status(), 404, "upgrade to another tenant's task"),
        Err(e) => panic!("expected an HTTP 404 refusal of the upgrade, got {e}"),
        Ok(_) => panic!("bob was allowed to watch alice's task"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_step_that_cannot_decode_fails_the_task_visibly() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    // The upload reads only the header, so the broken pixel data is found when step 0 decodes.
    let image = app.upload_ok(&token, corrupt_png_body(40, 30), "image/png").await;
    let image_id = image["id"].as_str().unwrap();
    assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(40), Some(30)), "{image}");
    let steps = json!([{"op": RESIZE, "width": 10}, {"op": ENCODE, "format": "png"}]);
    let task = app.run_chain(&token, image_id, steps).await;
    let task_id = task["id"].as_str().unwrap();

    let events = full_history(&app, &token, task_id).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap_or("?")).collect();
    assert!(types.ends_with(&["step.failed", "task.failed"]), "events end in failure: {events:#?}");
    let failure = &events[events.len() - 1]["error"];
    assert_eq!((failure["code"].as_str(), failure["step"].as_u64()), (Some("invalid_image"), Some(0)), "{events:#?}");

    let failed = json_body(app.get(Some(&token), &format!("/tasks/{task_id}")).await, StatusCode::OK).await;
    assert_eq!(failed["status"], "failed", "{failed:#}");
    assert_eq!((failed["error"]["code"].as_str(), failed["error"]["step"].as_u64()), (Some("invalid_image"), Some(0)), "{failed:#}");
    let resp = app.get(Some(&token), &format!("/tasks/{task_id}/download")).await;
    assert_error(resp, StatusCode::CONFLICT, "task_not_finished").await;

    // The failure stays with its task: the next one on the same server runs normally.
    let good = app.upload_ok(&token, png_fixture(40, 30), "image/png").await;
    let next =
        app.run_chain(&token, good["id"].as_str().unwrap(), json!([{"op": RESIZE, "width": 10}, {"op": ENCODE, "format": "png"}])).await;
    let next = app.wait_for_task(&token, next["id"].as_str().unwrap(), TASK_DEADLINE).await;
    assert_eq!(next["status"], "succeeded", "{next:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn jpeg_upload_can_be_encoded_to_jpeg() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_ok(&token, jpeg_fixture(200, 100), "image/jpeg").await;
    assert_eq!((image["format"].as_str(), image["width"].as_u64()), (Some("jpeg"), Some(200)), "{image}");
    let steps = json!([{"op": RESIZE, "width": 50}, {"op": ENCODE, "format": "jpeg", "quality": 80}]);
    let task = app.run_chain(&token, image["id"].as_str().unwrap(), steps).await;
    let task_id = task["id"].as_str().unwrap();
    let done = app.wait_for_task(&token, task_id, TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert_eq!(done["outputs"][0]["content_type"], "image/jpeg", "{done:#}");

    let output = decode_as(&download(&app, &token, task_id).await, ImageFormat::Jpeg);
    assert_eq!((output.width(), output.height()), (50, 25));
}

#[tokio::test(flavor = "multi_thread")]
async fn download_honours_range_and_if_none_match() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let image = app.upload_ok(&token, png_fixture(120, 80), "image/png").await;
    let task = app.run_chain(&token, image["id"].as_str().unwrap(), json!([{"op": ENCODE, "format": "png"}])).await;
    let task_id = task["id"].as_str().unwrap();
    app.wait_for_task(&token, task_id, TASK_DEADLINE).await;
    let path = format!("/tasks/{task_id}/download");
    let whole = app.http.get(app.url(&path)).bearer_auth(&token).send().await.expect("download");
    let etag = whole.headers()["etag"].to_str().expect("etag").to_string();
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let bytes = whole.bytes().await.expect("body");

    let part = app.http.get(app.url(&path)).bearer_auth(&token).header("range", "bytes=0-7").send().await.expect("range");
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-range"], format!("bytes 0-7/{}", bytes.len()).as_str());
    assert_eq!(part.bytes().await.expect("part"), bytes[..8], "the first 8 bytes: the PNG signature");

    let cached = app.http.get(app.url(&path)).bearer_auth(&token).header("if-none-match", &etag).send().await.expect("304");
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    let beyond =
        app.http.get(app.url(&path)).bearer_auth(&token).header("range", format!("bytes={}-", bytes.len())).send().await.expect("416");
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
}
