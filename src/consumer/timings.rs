//! Where one job's time went, logged as one JSON line when it ends (`"event": "job"`): queue
//! wait, R2 reads and writes, decode, steps, encode and the round trips to the task object. The
//! chains benchmark reads these lines for its breakdown.

use crate::clock::now_millis;
use crate::log;
use crate::messages::Job;
use serde_json::json;
use std::future::Future;

#[derive(Debug, Default)]
pub struct Timings {
    /// The queue message's id: the `request_id` of the job's log lines.
    message: String,
    started: u64,
    queue_wait_ms: u64,
    load_ms: u64,
    decode_ms: u64,
    steps_ms: u64,
    encode_ms: u64,
    store_ms: u64,
    object_ms: u64,
    /// The last reported outcome.
    pub outcome: &'static str,
    /// A job run by the request that created its task: after this long it hands its remaining
    /// steps to the queue (`wait_until` gives a request's work 30 s after its answer).
    budget_ms: Option<u64>,
}

/// How long a handed-over job runs before it leaves the rest of its chain to the queue: half
/// of `wait_until`'s 30 s, so that the step running when it is reached can still finish.
pub const INLINE_BUDGET_MS: u64 = 15_000;

impl Timings {
    /// Starts the clock for a delivered `job`.
    pub fn start(job: &Job, message: &str) -> Timings {
        let now = now_millis();
        // Messages sent before `sent_ms` existed carry 0: no figure rather than a wrong one.
        let queue_wait_ms = if job.sent_ms > 0 { now.saturating_sub(job.sent_ms) } else { 0 };
        Timings { message: message.to_string(), started: now, queue_wait_ms, outcome: "none", ..Timings::default() }
    }

    /// Starts the clock for a job run by the request that created its task (`request_id`).
    pub fn inline(job: &Job, request_id: &str) -> Timings {
        Timings { budget_ms: Some(INLINE_BUDGET_MS), ..Timings::start(job, request_id) }
    }

    /// Whether a handed-over job has run long enough to leave its remaining steps to the queue.
    pub fn past_budget(&self) -> bool {
        self.budget_ms.is_some_and(|budget| now_millis().saturating_sub(self.started) >= budget)
    }

    /// The id of the message being run.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Time spent writing to R2 so far.
    pub fn store_ms(&self) -> u64 {
        self.store_ms
    }

    /// Time spent in round trips to the task object so far.
    pub fn object_ms(&self) -> u64 {
        self.object_ms
    }

    pub async fn time_load<T>(&mut self, f: impl Future<Output = T>) -> T {
        let t = now_millis();
        let out = f.await;
        self.load_ms += now_millis() - t;
        out
    }

    pub async fn time_store<T>(&mut self, f: impl Future<Output = T>) -> T {
        let t = now_millis();
        let out = f.await;
        self.store_ms += now_millis() - t;
        out
    }

    pub async fn time_object<T>(&mut self, f: impl Future<Output = T>) -> T {
        let t = now_millis();
        let out = f.await;
        self.object_ms += now_millis() - t;
        out
    }

    pub fn time_decode<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = now_millis();
        let out = f();
        self.decode_ms += now_millis() - t;
        out
    }

    /// Times a step's pixel work, or (`encode`) an encoder's.
    pub fn time_step<T>(&mut self, encode: bool, f: impl FnOnce() -> T) -> T {
        let t = now_millis();
        let out = f();
        let spent = now_millis() - t;
        if encode {
            self.encode_ms += spent;
        } else {
            self.steps_ms += spent;
        }
        out
    }

    /// The log line: the job's duration (`timings.total_ms`) and outcome.
    pub fn line(&self, job: &Job) -> log::Line {
        let timings = json!({
            "load_ms": self.load_ms, "decode_ms": self.decode_ms, "steps_ms": self.steps_ms, "encode_ms": self.encode_ms,
            "store_ms": self.store_ms, "object_ms": self.object_ms, "total_ms": now_millis() - self.started,
        });
        let line = super::job_line(log::info("job"), job, &self.message).field("outcome", self.outcome);
        let via = if self.budget_ms.is_some() { "inline" } else { "queue" };
        line.field("via", via).field("queue_wait_ms", self.queue_wait_ms).field("timings", timings)
    }
}
