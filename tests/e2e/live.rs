//! Live notifications: many subscribers, drops and resumes over WebSocket and SSE, ping/pong,
//! hibernation, late joiners, the tenant feed and the socket cap.

use crate::support::*;
use functions::registry::{ENCODE, GRAYSCALE, RESIZE};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// Subscribers open their sockets before the first step can start (delivery waits for the
/// queue's batch window), yet the test does not depend on it: each asks for `since=0`.
async fn task_with_steps(app: &TestApp, token: &str, steps: usize) -> Value {
    let image = app.upload_png(token, "live.png", 40, 30).await;
    let mut chain: Vec<Value> = (0..steps).map(|_| json!({"op": GRAYSCALE})).collect();
    chain.push(json!({"op": ENCODE, "format": "png"}));
    app.run_chain(token, &image, Value::Array(chain)).await
}

/// Reads a socket until an event satisfies `until`; returns the events read (that one included).
async fn read_until(ws: &mut WsStream, until: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + TASK_DEADLINE;
    let mut events = Vec::new();
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next()).await.expect("an event before the deadline");
        if let Some(Ok(Message::Text(text))) = next {
            let event: Value = serde_json::from_str(text.as_str()).expect("JSON event");
            let done = until(&event);
            events.push(event);
            if done {
                return events;
            }
        } else if !matches!(next, Some(Ok(_))) {
            panic!("the socket ended early: {next:?}; events: {events:#?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_clients_on_one_task_and_a_late_one_receive_identical_gap_free_sequences() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let task = task_with_steps(&app, &token, 3).await;
    let id = task["id"].as_str().expect("id").to_string();
    let sockets = futures_util::future::join_all((0..50).map(|_| app.ws(&token, &id, Some(0)))).await;
    let histories = futures_util::future::join_all(sockets.into_iter().map(|ws| collect_events(ws, TASK_DEADLINE))).await;
    let (reference, _) = &histories[0];
    assert_gap_free(reference, &id, 1);
    assert_eq!(types(reference).last(), Some(&"task.succeeded"));
    for (i, (events, close)) in histories.iter().enumerate() {
        assert_eq!(events, reference, "client {i} saw a different sequence");
        assert_eq!(*close, Some(NORMAL_CLOSURE), "client {i} close code");
    }
    // A client arriving after the end gets the same whole history, then a normal closure.
    assert_eq!(&full_history(&app, &token, &id).await, reference);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_client_dropped_mid_chain_resumes_with_its_last_seq_and_gets_each_missed_event_once() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let id = task_with_steps(&app, &token, 3).await["id"].as_str().expect("id").to_string();
    let mut ws = app.ws(&token, &id, Some(0)).await;
    let first = read_until(&mut ws, |e| e["type"] == "step.succeeded").await;
    drop(ws); // the connection just goes away, as on a network drop
    let last_seq = first.last().expect("an event")["seq"].as_u64().expect("seq");
    let (rest, close) = collect_events(app.ws(&token, &id, Some(last_seq)).await, TASK_DEADLINE).await;
    assert_eq!(close, Some(NORMAL_CLOSURE));
    let joined: Vec<Value> = first.into_iter().chain(rest).collect();
    assert_gap_free(&joined, &id, 1);
    assert_eq!(joined, full_history(&app, &token, &id).await, "nothing missed, nothing twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_carries_the_same_events_and_resumes_from_last_event_id() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let task = task_with_steps(&app, &token, 3).await;
    let id = task["id"].as_str().expect("id").to_string();
    let link = task["links"]["events"].as_str().expect("events link").to_string();

    // The signed link alone opens the stream; read until the first step succeeded, then drop.
    let mut stream = SseStream::new(send(app.http.get(&link)).await);
    let deadline = Instant::now() + TASK_DEADLINE;
    let mut first = Vec::new();
    while let Some(event) = stream.next_event(deadline).await {
        let done = event.data["type"] == "step.succeeded";
        first.push(event);
        if done {
            break;
        }
    }
    drop(stream);
    let last_id = first.last().and_then(|e| e.id.clone()).expect("frames carry ids");
    let resumed = send(app.http.get(&link).header("last-event-id", &last_id)).await;
    let rest = SseStream::new(resumed).collect(TASK_DEADLINE).await;

    let joined: Vec<SseEvent> = first.into_iter().chain(rest).collect();
    for e in &joined {
        assert_eq!(e.id.as_deref().map(str::to_string), e.data["seq"].as_u64().map(|s| s.to_string()), "id is the seq");
    }
    let data: Vec<Value> = joined.into_iter().map(|e| e.data).collect();
    assert_eq!(data, full_history(&app, &token, &id).await, "the same events as the WebSocket, each once");
    let since = SseStream::new(app.get(Some(&token), &format!("/tasks/{id}/events?since=4")).await).collect(TASK_DEADLINE).await;
    assert_eq!(since.first().map(|e| e.data["seq"].clone()), Some(json!(5)), "?since= resumes too");
}

#[tokio::test(flavor = "multi_thread")]
async fn sockets_idle_past_hibernation_still_answer_ping_and_receive_the_next_events() {
    // The first attempt dies silently; the watchdog acts after 12 s, so the object sits idle
    // (and may hibernate, which happens after 10 s) with the sockets open.
    let app = TestApp::spawn_with(&[("FAULT_INJECTION", "die=1"), ("STEP_TIMEOUT_SECONDS", "12")]).await;
    let token = app.token("alice");
    let id = task_with_steps(&app, &token, 1).await["id"].as_str().expect("id").to_string();
    let mut ws = app.ws(&token, &id, Some(0)).await;
    let before = read_until(&mut ws, |e| e["type"] == "step.started").await;
    let idle_from = Instant::now();
    tokio::time::sleep(Duration::from_secs(11)).await; // the idle period is the point of the test
    ws.send(Message::text("ping")).await.expect("send ping");
    let reply = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("an answer to ping");
    assert!(matches!(&reply, Some(Ok(Message::Text(t))) if t.as_str() == "pong"), "ping → pong, got {reply:?}");
    let (after, close) = collect_events(ws, TASK_DEADLINE).await;
    assert!(idle_from.elapsed() > Duration::from_secs(10));
    assert_eq!(close, Some(NORMAL_CLOSURE));
    assert_eq!(after.first().map(|e| e["type"].clone()), Some(json!("step.retrying")), "the watchdog's event arrives");
    let joined: Vec<Value> = before.into_iter().chain(after).collect();
    assert_gap_free(&joined, &id, 1);
    assert_eq!(types(&joined).last(), Some(&"task.succeeded"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tenant_feed_sees_a_tasks_lifecycle_over_websocket_and_sse() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let listing = json_body(app.get(Some(&token), "/tasks").await, reqwest::StatusCode::OK).await;
    let feed_ws = listing["links"]["feed_ws"].as_str().expect("feed_ws link").to_string();
    let feed_events = listing["links"]["feed_events"].as_str().expect("feed_events link").to_string();
    let (mut ws, _) = tokio_tungstenite::connect_async(feed_ws).await.expect("the feed link upgrades");
    let image = app.upload_png(&token, "feed.png", 20, 20).await;
    let id = app.run_chain(&token, &image, json!([{"op": RESIZE, "width": 10}, {"op": ENCODE, "format": "png"}])).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let feed = read_until(&mut ws, |e| e["type"] == "task.finished").await;
    // The upload's `image.analyzed` may come in between; the rest is the task's.
    let task_events: Vec<Value> = feed.iter().filter(|e| e["type"] != "image.analyzed").cloned().collect();
    assert!(task_events.iter().all(|e| e["task"] == id.as_str()), "{feed:#?}");
    let kinds: Vec<&str> = types(&task_events);
    assert_eq!((kinds.first(), kinds.last()), (Some(&"task.created"), Some(&"task.finished")), "{kinds:?}");
    assert!(kinds.contains(&"task.progress"), "{kinds:?}");
    assert_eq!(feed.last().expect("event")["status"], "succeeded");
    for (i, e) in feed.iter().enumerate() {
        assert_eq!(e["seq"], i as u64 + 1, "gap-free feed");
    }
    // The same feed over SSE, resumed after the first event; it stays open (no terminal event).
    let mut sse = SseStream::new(send(app.http.get(format!("{feed_events}&since=1"))).await);
    let deadline = Instant::now() + TASK_DEADLINE;
    let mut replay = Vec::new();
    while replay.len() < feed.len() - 1 {
        replay.push(sse.next_event(deadline).await.expect("the feed stays open").data);
    }
    assert_eq!(replay, feed[1..]);
}

#[tokio::test(flavor = "multi_thread")]
async fn sockets_beyond_the_cap_are_closed_with_1013_and_a_reason() {
    let app = TestApp::spawn_with(&[("MAX_SOCKETS_PER_STREAM", "3")]).await;
    let token = app.token("alice");
    // The tenant feed never ends, so its sockets stay open for as long as the test needs.
    let listing = json_body(app.get(Some(&token), "/tasks").await, reqwest::StatusCode::OK).await;
    let link = listing["links"]["feed_ws"].as_str().expect("feed_ws link").to_string();
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(tokio_tungstenite::connect_async(link.as_str()).await.expect("within the cap").0);
    }
    let (mut extra, _) = tokio_tungstenite::connect_async(link.as_str()).await.expect("the upgrade itself succeeds");
    let reply = tokio::time::timeout(TASK_DEADLINE, extra.next()).await.expect("a close before the deadline");
    let Some(Ok(Message::Close(Some(frame)))) = reply else { panic!("expected a close frame, got {reply:?}") };
    assert_eq!(u16::from(frame.code), 1013);
    assert!(frame.reason.contains("MAX_SOCKETS_PER_STREAM=3"), "reason: {}", frame.reason);
    // The sockets within the cap are still served.
    open[0].send(Message::text("ping")).await.expect("send ping");
    let pong = tokio::time::timeout(TASK_DEADLINE, open[0].next()).await.expect("an answer");
    assert!(matches!(&pong, Some(Ok(Message::Text(t))) if t.as_str() == "pong"), "{pong:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_chain_moves_the_tenant_feed_at_most_once_a_second_while_its_own_stream_has_every_step() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let mut feed = feed_socket(&app, &token).await;
    let started = Instant::now();
    let id = task_with_steps(&app, &token, 31).await["id"].as_str().expect("id").to_string();
    let seen = read_until(&mut feed, |e| e["type"] == "task.finished" && e["task"] == id.as_str()).await;
    let took = started.elapsed();
    // 32 steps: every one of them used to be a `task.progress` (and a listing snapshot). Now
    // the first at once, then at most one a second; the end is `task.finished`.
    let progress = seen.iter().filter(|e| e["task"] == id.as_str() && e["type"] == "task.progress").count();
    assert!(progress >= 1 && progress as u64 <= 1 + took.as_secs(), "{progress} task.progress in {took:?}: {seen:#?}");
    let history = full_history(&app, &token, &id).await;
    assert_eq!(of_type(&history, "step.succeeded").len(), 32, "the task's own stream has every step");
    assert_eq!(types(&history).last(), Some(&"task.succeeded"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_answered_from_earlier_results_is_created_then_finished_on_the_tenant_feed() {
    // The second task's steps are all reused: it has ended by the time it is first indexed,
    // and a feed that only announced it would leave a dashboard showing it forever queued.
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let mut feed = feed_socket(&app, &token).await;
    let image = app.upload_png(&token, "again.png", 40, 30).await;
    let chain = json!([{"op": RESIZE, "width": 20}, {"op": ENCODE, "format": "png"}]);
    let first = app.run_chain(&token, &image, chain.clone()).await["id"].as_str().expect("id").to_string();
    read_until(&mut feed, |e| e["type"] == "task.finished" && e["task"] == first.as_str()).await;
    let second = app.run_chain(&token, &image, chain).await;
    let id = second["id"].as_str().expect("id").to_string();
    assert_eq!(second["status"], "succeeded", "nothing left to run: {second:#}");
    let seen = read_until(&mut feed, |e| e["type"] == "task.finished" && e["task"] == id.as_str()).await;
    let its: Vec<Value> = seen.iter().filter(|e| e["task"] == id.as_str()).cloned().collect();
    assert_eq!(types(&its), ["task.created", "task.finished"], "{seen:#?}");
    assert_eq!(seen.last().expect("the end")["status"], "succeeded");
}
