//! Restart storm: 50 tasks in flight while `wrangler dev` is SIGKILLed and restarted on its
//! persisted state three times. Every task must still succeed with exactly the bytes of its
//! twin on an undisturbed server, and every WebSocket subscriber, resuming with `since` after
//! each restart, must see one gap-free sequence with no event twice: the task's stored log.

use crate::support::*;
use functions::registry::{ENCODE, GRAYSCALE, RESIZE, SHARPEN};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{timeout_at, Instant};
use tokio_tungstenite::tungstenite::Message;

const TASKS: u64 = 50;
/// The storm's whole budget: three restarts (each ~10 s on a busy machine), lost messages
/// re-sent after 3, 6 and 12 s, and the work itself.
const STORM_DEADLINE: Duration = Duration::from_secs(240);
/// A restart is only a storm if tasks are still running: each kill waits until this many
/// tasks have finished (0: until some step has succeeded), and asserts that others have not.
const KILL_AFTER_FINISHED: [usize; 3] = [0, 15, 30];

/// Distinct chains (result reuse would otherwise let a task skip its work), four steps each.
fn chain(i: u64) -> Value {
    json!([{"op": RESIZE, "width": 120 + i}, {"op": SHARPEN}, {"op": GRAYSCALE}, {"op": ENCODE, "format": "png"}])
}

/// Uploads the image and starts the 50 tasks; returns their ids in chain order.
async fn start_tasks(app: &TestApp, token: &str) -> Vec<String> {
    let image = app.upload_png(token, "storm.png", 320, 240).await;
    let create = |i: u64| {
        let body = json!({"images": [image], "steps": chain(i)});
        async move { json_body(app.create_task(token, &body).await, StatusCode::ACCEPTED).await["id"].as_str().expect("id").to_string() }
    };
    futures_util::stream::iter(0..TASKS).map(create).buffered(8).collect().await
}

/// The undisturbed twin: the same image and chains on a server nobody kills.
async fn twin_outputs() -> Vec<Vec<u8>> {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_PER_MINUTE", "100000")]).await;
    let token = app.token("calm");
    let ids = start_tasks(&app, &token).await;
    let mut outputs = Vec::new();
    for id in &ids {
        let task = app.wait_for_task(&token, id, STORM_DEADLINE).await;
        assert_eq!(task["status"], "succeeded", "the undisturbed twin: {task:#}");
        outputs.push(download(&app, &token, id).await);
    }
    outputs
}

/// What all subscribers have seen so far, for the storm to time its kills.
#[derive(Default)]
struct Seen {
    steps_done: AtomicUsize,
    finished: AtomicUsize,
}

/// One subscriber's view of a task, pieced together across restarts.
struct Follower {
    task: String,
    events: Vec<Value>,
    sockets: usize,
}

impl Follower {
    fn last_seq(&self) -> u64 {
        self.events.last().map_or(0, |e| e["seq"].as_u64().expect("seq"))
    }

    /// Takes the next event, asserting it is the next `seq`: no gap, no repeat.
    fn take(&mut self, event: Value, seen: &Seen) {
        let (task, n, socket) = (&self.task, self.events.len(), self.sockets);
        assert_eq!(event["seq"], self.last_seq() + 1, "{task}: a gap or a repeat after {n} events (socket {socket}): {event}");
        match event["type"].as_str() {
            Some("step.succeeded") => seen.steps_done.fetch_add(1, Ordering::SeqCst),
            Some("task.succeeded" | "task.failed" | "task.cancelled") => seen.finished.fetch_add(1, Ordering::SeqCst),
            _ => 0,
        };
        self.events.push(event);
    }

    /// Reads one socket until it ends; true when the server closed it normally (1000), which
    /// it may only do after the terminal event.
    async fn read(&mut self, mut ws: WsStream, seen: &Seen, deadline: Instant) -> bool {
        loop {
            let next = timeout_at(deadline, ws.next()).await.unwrap_or_else(|_| panic!("{}: stream silent until the deadline", self.task));
            match next {
                Some(Ok(Message::Text(text))) => self.take(serde_json::from_str(text.as_str()).expect("a JSON event"), seen),
                Some(Ok(Message::Close(Some(frame)))) if u16::from(frame.code) == NORMAL_CLOSURE => {
                    let last = self.events.last().and_then(|e| e["type"].as_str()).unwrap_or("none");
                    assert!(last.starts_with("task.") && last != "task.queued", "{}: closed with 1000 after {last}", self.task);
                    return true;
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => return false, // the server went away
                Some(Ok(_)) => {}
            }
        }
    }
}

/// Follows the task over WebSocket across restarts (the current port comes from `ports`),
/// resuming with `since=<last seq>` each time, until the normal close after its terminal event.
async fn subscribe(mut ports: watch::Receiver<u16>, token: String, task: String, seen: Arc<Seen>) -> Follower {
    let deadline = Instant::now() + STORM_DEADLINE;
    let mut follower = Follower { task, events: Vec::new(), sockets: 0 };
    loop {
        assert!(Instant::now() < deadline, "{}: not finished within {STORM_DEADLINE:?}: {:#?}", follower.task, follower.events);
        let port = *ports.borrow_and_update();
        // Refused while the server is down (or by a stranger on its old port): try again below.
        if let Ok(ws) = connect_ws(port, &token, &follower.task, Some(follower.last_seq())).await {
            follower.sockets += 1;
            if follower.read(ws, &seen, deadline).await {
                return follower;
            }
        }
        // Wait for the restarted server's port; after a short wait the same port is tried again.
        let _ = tokio::time::timeout(Duration::from_millis(500), ports.changed()).await;
    }
}

/// Polls what the subscribers saw until `ready` holds.
async fn wait_seen(seen: &Seen, what: &str, ready: impl Fn(&Seen) -> bool) {
    let deadline = Instant::now() + STORM_DEADLINE;
    while !ready(seen) {
        assert!(Instant::now() < deadline, "no {what} within {STORM_DEADLINE:?}");
        // Short poll interval inside the deadline loop; the condition is `ready` above.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_tasks_survive_three_server_kills_with_twin_outputs_and_gap_free_events() {
    let started = std::time::Instant::now();
    // Lost messages and killed runs are taken over after 3 s instead of 10 min and 2 min; each
    // step pauses 150 ms (a timer) so that the 50 tasks are still running when the kills come.
    let vars = [
        ("STEP_TIMEOUT_SECONDS", "3"),
        ("QUEUE_TIMEOUT_SECONDS", "3"),
        ("RATE_LIMIT_PER_MINUTE", "100000"),
        ("FAULT_INJECTION", "pause=150"),
    ];
    let (twin, mut app) = tokio::join!(twin_outputs(), TestApp::spawn_with(&vars));
    let token = app.token("storm");
    let ids = start_tasks(&app, &token).await;
    let seen = Arc::new(Seen::default());
    let (ports, port) = watch::channel(app.port);
    let subscribers: Vec<_> = ids.iter().map(|id| tokio::spawn(subscribe(port.clone(), token.clone(), id.clone(), seen.clone()))).collect();

    for (kill, &after) in KILL_AFTER_FINISHED.iter().enumerate() {
        wait_seen(&seen, &format!("{after} tasks finished before kill {}", kill + 1), |s| {
            s.finished.load(Ordering::SeqCst) >= after && s.steps_done.load(Ordering::SeqCst) > 0
        })
        .await;
        let finished = seen.finished.load(Ordering::SeqCst);
        assert!(finished + 10 <= TASKS as usize, "kill {}: {finished} of {TASKS} tasks had already finished", kill + 1);
        eprintln!("storm: kill {} with {} of {TASKS} tasks unfinished ({:?} in)", kill + 1, TASKS as usize - finished, started.elapsed());
        app.restart().await;
        ports.send(app.port).expect("the subscribers are listening");
    }

    let mut histories = Vec::new();
    for handle in subscribers {
        histories.push(handle.await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())));
    }
    let (mut retries, mut sockets) = (0, 0);
    for (i, (id, Follower { events, sockets: socks, .. })) in ids.iter().zip(histories).enumerate() {
        let task = json_body(app.get(Some(&token), &format!("/tasks/{id}")).await, StatusCode::OK).await;
        assert_eq!(task["status"], "succeeded", "task {i} after the storm: {task:#}");
        // What the subscriber pieced together across restarts is exactly the stored log.
        assert_eq!(events, full_history(&app, &token, id).await, "task {i}: the subscriber's sequence differs from the log");
        let mut succeeded: HashMap<u64, usize> = HashMap::new();
        for e in of_type(&events, "step.succeeded") {
            *succeeded.entry(e["step"].as_u64().expect("step")).or_default() += 1;
        }
        assert_eq!(succeeded, (0..4).map(|s| (s, 1)).collect(), "task {i}: each step succeeds exactly once: {events:#?}");
        assert_eq!(types(&events).iter().filter(|t| t.starts_with("task.")).count(), 2, "task {i}: one task.queued, one terminal");
        assert!(download(&app, &token, id).await == twin[i], "task {i}: the output differs from its undisturbed twin");
        retries += of_type(&events, "step.retrying").len();
        sockets += socks;
    }
    eprintln!("storm: {TASKS} tasks succeeded in {:?}; {retries} step retries, {sockets} sockets", started.elapsed());
}
