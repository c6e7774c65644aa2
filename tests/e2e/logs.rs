//! The Worker's log, read from the dev server's own output: one JSON object per line with the
//! fields an operator filters on, and never a secret, a token or a signed link's signature.

use crate::support::*;
use functions::registry::{ENCODE, RESIZE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How long a line may take to reach the log file after its request answered.
const LOG_DEADLINE: Duration = Duration::from_secs(20);

/// The Worker's lines (JSON objects) in the server log.
fn worker_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object ({e}): {l}")))
        .collect()
}

/// Waits until a Worker line satisfies `found`, and returns the whole log at that point.
async fn log_with(app: &TestApp, what: &str, found: impl Fn(&Value) -> bool) -> String {
    let deadline = Instant::now() + LOG_DEADLINE;
    loop {
        let log = app.server_log();
        if worker_lines(&log).iter().any(&found) {
            return log;
        }
        assert!(Instant::now() < deadline, "no log line with {what} within {LOG_DEADLINE:?}; log:\n{log}");
        // Short poll interval inside the deadline loop; the condition is the line above.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `sig` value of a signed link.
fn sig_of(link: &str) -> String {
    link.split(['?', '&']).find_map(|p| p.strip_prefix("sig=")).expect("a signed link has sig=").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_token_or_link_signature_ever_reaches_the_log() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let forged = mint_token("alice", b"not-the-server-secret-not-the-server-secret");
    let image = app.upload_png(&alice, "secret-check", 64, 48).await;
    let task = app.run_chain(&alice, &image, json!([{"op": RESIZE, "width": 16}, {"op": ENCODE, "format": "png"}])).await;
    let task_id = task["id"].as_str().expect("task id");
    app.wait_for_task(&alice, task_id, TASK_DEADLINE).await;
    let task = json_body(app.get(Some(&alice), &format!("/tasks/{task_id}")).await, StatusCode::OK).await;
    let links: Vec<String> = ["download", "ws", "events"].iter().filter_map(|k| task["links"][*k].as_str().map(String::from)).collect();
    assert!(!links.is_empty(), "the task carries signed links: {task}");

    // Drive the paths that handle credentials: a link that works, tampered and forged ones.
    let download = &links[0];
    assert_eq!(send(app.http.get(download)).await.status(), StatusCode::OK, "the signed link downloads");
    let tampered = download.replacen("sig=", "sig=x", 1);
    assert_eq!(send(app.http.get(&tampered)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(Some(&forged), "/images").await.status(), StatusCode::UNAUTHORIZED);
    let last = send(app.http.get(app.url("/images")).bearer_auth(&alice).header("x-request-id", "logs-test-last-request")).await;
    assert_eq!(last.status(), StatusCode::OK);

    let log = log_with(&app, "the last request", |l| l["request_id"] == "logs-test-last-request").await;
    let log = if worker_lines(&log).iter().any(|l| l["event"] == "job" && l["task"] == task_id) {
        log
    } else {
        log_with(&app, "the task's job", |l| l["event"] == "job" && l["task"] == task_id).await
    };
    let mut needles = vec![
        ("AUTH_SECRET", dev_var("AUTH_SECRET")),
        ("WEBHOOK_SECRET", dev_var("WEBHOOK_SECRET")),
        ("the bearer token", alice.clone()),
        ("the forged token", forged.clone()),
    ];
    needles.extend(links.iter().map(|l| ("a link's sig", sig_of(l))));
    needles.push(("the tampered sig", sig_of(&tampered)));
    for (what, secret) in &needles {
        assert!(!log.contains(secret.as_str()), "{what} appears in the server log");
    }
    // The tokens' signatures alone are credentials too (a line could have cut the token).
    for token in [&alice, &forged] {
        let signature = token.rsplit('.').next().unwrap_or_default();
        assert!(!log.contains(signature), "a token's signature appears in the server log");
    }
    assert!(!log.contains("sig="), "no signed link, even a redacted one, is logged in full:\n{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_worker_log_line_is_one_json_object_naming_level_event_request_and_tenant() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let image = app.upload_png(&alice, "fields", 32, 32).await;
    let task = app.run_chain(&alice, &image, json!([{"op": RESIZE, "width": 8}, {"op": ENCODE, "format": "png"}])).await;
    let task_id = task["id"].as_str().expect("task id").to_string();
    app.wait_for_task(&alice, &task_id, TASK_DEADLINE).await;

    let log = log_with(&app, "the task's job", |l| l["event"] == "job" && l["task"] == task_id.as_str()).await;
    let lines = worker_lines(&log);
    for line in &lines {
        for field in ["level", "event", "request_id"] {
            assert!(line.get(field).is_some(), "{field} missing: {line}");
        }
        assert!(matches!(line["level"].as_str(), Some("info" | "warn" | "error")), "{line}");
    }
    let upload =
        lines.iter().find(|l| l["event"] == "request" && l["path"] == "/images" && l["method"] == "POST").expect("the upload's line");
    assert_eq!((upload["tenant"].as_str(), upload["status"].as_u64()), (Some("alice"), Some(201)), "{upload}");
    assert!(upload["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{upload}");
    let job = lines.iter().find(|l| l["event"] == "job" && l["task"] == task_id.as_str()).expect("the job's line");
    assert_eq!((job["tenant"].as_str(), job["outcome"].as_str()), (Some("alice"), Some("succeeded")), "{job}");
    assert!(job["request_id"].as_str().is_some_and(|id| !id.is_empty()), "the queue message's id: {job}");
    assert_eq!((job["image"].as_u64(), job["step"].as_u64()), (Some(0), Some(0)), "the job's first step: {job}");
    assert!(job["timings"]["total_ms"].is_u64(), "its duration: {job}");
}
