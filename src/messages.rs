//! What travels between the task's Durable Object and the queue consumer. Queue messages carry
//! ids and indexes, never image bytes.

use crate::ids::{ImageId, TaskId, TenantId};
use functions::ops::region::Region;
use functions::{Chain, Format};
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
    /// Whose task: every call into the task object names its tenant.
    pub tenant: TenantId,
    pub task: TaskId,
    pub job: JobRef,
    /// When it was sent (ms since the epoch), for the consumer's queue-wait figure.
    #[serde(default)]
    pub sent_ms: u64,
}

/// An image's own job, not a task's: computing its placeholder after the upload
/// ([`crate::analysis`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageJob {
    pub tenant: TenantId,
    /// The image to analyse.
    pub analyze: ImageId,
    #[serde(default)]
    pub sent_ms: u64,
}

/// What the queue carries. Untagged so that a task's job keeps its form (messages already
/// queued still read); an image job is the one without a `task`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum QueueMessage {
    Task(Job),
    Image(ImageJob),
}

/// What the consumer needs to run a claimed step and, in the same job, the steps after it.
///
/// Steps `resume_from..start` already succeeded in an earlier job that kept their output in
/// memory only; they are run again silently from the last checkpoint (`input_key`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepSpec {
    /// The whole chain: the job runs on to its end unless the object says stop.
    pub chain: Chain,
    /// Which of the task's images.
    pub image: usize,
    /// The claimed step: the first one this job reports.
    pub start: usize,
    /// The first step to execute (`input_key` holds its input).
    pub resume_from: usize,
    /// The planner's peak for the chain, in bytes, checked before the job starts.
    pub peak_bytes: u64,
    /// Other images the chain reads: (image id, R2 key).
    pub aux: Vec<(String, String)>,
    pub source_format: Format,
    /// The original (`resume_from == 0`) or the checkpoint of step `resume_from - 1`.
    pub input_key: String,
    /// Where the last step stores the result.
    pub output_key: String,
    /// Checkpoints of earlier jobs, to delete once the result is recorded.
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

/// One encode of a running step's `max_bytes` search, reported by the consumer while the step
/// goes on ([`crate::task::protocol::Call::Progress`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepProgress {
    pub image: usize,
    pub step: usize,
    pub attempt: u32,
    pub search: functions::ops::fit::Attempt,
}

/// A finished attempt, reported by the consumer ([`crate::task::protocol::Call::Complete`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Completion {
    pub job: JobRef,
    pub attempt: u32,
    pub outcome: Outcome,
    /// A succeeded step's output was stored as a checkpoint (`keys::step_output`).
    #[serde(default)]
    pub checkpointed: bool,
    /// The consumer holds a succeeded step's output in memory and asks to run the next step
    /// itself: the object claims it in place ([`CompletionResponse::next_attempt`]) instead of
    /// sending a message.
    #[serde(default)]
    pub proceed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded {
        content_type: String,
        width: u32,
        height: u32,
        bytes: u64,
        duration_ms: u64,
        memory_bytes: u64,
        /// The box of its input a content-aware step kept (`trim`, `smart_crop`).
        #[serde(default, rename = "box", skip_serializing_if = "Option::is_none")]
        region: Option<Region>,
    },
    Packaged {
        bytes: u64,
    },
    Delivered,
    /// Permanent: retrying cannot help (bad image, bad params, missing input).
    Failed {
        code: String,
        message: String,
    },
    /// Worth retrying (storage or network trouble).
    Transient {
        message: String,
    },
}

impl Outcome {
    /// Its kind, for the job's log line and data point.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Succeeded { .. } => "succeeded",
            Outcome::Failed { .. } => "failed",
            Outcome::Transient { .. } => "transient",
            Outcome::Packaged { .. } | Outcome::Delivered => "other",
        }
    }
}

/// The object's answer to a report: when to retry the step, if at all, or the attempt number
/// of the next step, claimed for the reporting job (only when it asked to `proceed`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionResponse {
    pub retry_in_s: Option<u32>,
    #[serde(default)]
    pub next_attempt: Option<u32>,
}
