//! What travels between the task's Durable Object and the queue consumer. Queue messages carry
//! ids and indexes, never image bytes.

use crate::ids::TaskId;
use functions::{Format, Step};
use serde::{Deserialize, Serialize};

/// Which job of a task. Externally tagged (the serde default) so it crosses the JS boundary of
/// the queue binding as a plain object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobRef {
    /// One step of one image (`image` indexes the task's images).
    Step { image: usize, step: usize },
    /// The zip of every output.
    Package,
    /// The completion webhook.
    Webhook,
}

/// The queue's unit of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub task: TaskId,
    pub job: JobRef,
}

/// The consumer asks the task object whether to run a delivered job (`POST /claim`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimRequest {
    pub job: JobRef,
}

/// What the consumer needs to run a claimed step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepSpec {
    pub step: Step,
    pub is_first: bool,
    pub is_last: bool,
    /// Other images the step reads: (image id, R2 key).
    pub aux: Vec<(String, String)>,
    pub source_format: Format,
    pub input_key: String,
    pub output_key: String,
    /// Intermediate outputs to delete once the last step stored the result.
    pub cleanup: Vec<String>,
}

/// One file of the zip.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZipEntry {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageSpec {
    pub key: String,
    pub entries: Vec<ZipEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookSpec {
    pub url: String,
    /// The terminal event's type, e.g. `task.succeeded`.
    pub event: String,
    /// The task object as JSON: signed and sent as is.
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Work {
    Step(StepSpec),
    Package(PackageSpec),
    Webhook(WebhookSpec),
}

/// `run: None` means skip: a duplicate delivery, a job already running or done, or a task that
/// ended or is being cancelled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimResponse {
    pub run: Option<Claimed>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claimed {
    /// The attempt number the object assigned to this run; the report must quote it.
    pub attempt: u32,
    pub work: Work,
}

/// A finished attempt, reported by the consumer (`POST /complete`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Completion {
    pub job: JobRef,
    pub attempt: u32,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded { content_type: String, width: u32, height: u32, bytes: u64, duration_ms: u64, memory_bytes: u64 },
    Packaged { bytes: u64 },
    Delivered,
    /// Permanent: retrying cannot help (bad image, bad params, missing input).
    Failed { code: String, message: String },
    /// Worth retrying (storage or network trouble).
    Transient { message: String },
}

/// The object's answer to a report: when to retry the message, if at all.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CompletionResponse {
    pub retry_in_s: Option<u32>,
}
