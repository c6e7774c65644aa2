//! The stored task: what the task object persists and every transition in [`super::state`],
//! [`super::lifecycle`] and [`super::watchdog`] works on.

use super::events::TaskError;
use super::lease::{Lease, Policy};
use crate::ids::{ImageId, TaskId, TenantId};
use crate::messages::JobRef;
use functions::ops::region::Region;
use functions::{Chain, Format};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl TaskStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Cancelled)
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepState {
    #[serde(flatten)]
    pub lease: Lease,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// Satisfied from an earlier identical run instead of running.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cached: bool,
    /// Its output is stored in R2 (`keys::step_output`), so a retry of a later step can start
    /// there instead of from the original.
    #[serde(default, skip_serializing_if = "is_false")]
    pub checkpoint: bool,
    /// The box a content-aware step kept (`trim`, `smart_crop`).
    #[serde(default, rename = "box", skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

/// A stored result, with the key it lives under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    pub key: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// The box kept by the chain's last `trim` or `smart_crop` (see [`PublicOutput`]).
    ///
    /// [`PublicOutput`]: super::events::PublicOutput
    #[serde(default, rename = "box", skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

/// The image as the task knows it (copied from the upload at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    pub id: ImageId,
    pub name: String,
    pub format: Format,
    /// Identity of (this image's bytes, the chain): its final output is stored under it, so an
    /// identical later request finds and reuses it.
    pub result_key: String,
    /// The planner's peak for this image's chain, in bytes: the job checks it before it
    /// starts ([`crate::memory::check`]). Tasks stored before it existed read as 0.
    #[serde(default)]
    pub peak_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskImage {
    pub image: ImageRef,
    pub steps: Vec<StepState>,
    pub output: Option<Output>,
}

/// The zip of every output, built once all images are done (only for several images).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Archive {
    pub lease: Lease,
    pub output: Option<Output>,
}

/// Where to POST the finished task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub url: String,
    pub lease: Lease,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub tenant: TenantId,
    pub status: TaskStatus,
    pub created_at: String,
    pub updated_at: String,
    pub chain: Chain,
    pub images: Vec<TaskImage>,
    pub error: Option<TaskError>,
    #[serde(default)]
    pub cancel_requested: bool,
    #[serde(default)]
    pub archive: Option<Archive>,
    #[serde(default)]
    pub webhook: Option<Webhook>,
    /// Hash of the request that created the task under an Idempotency-Key.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// When retention deleted its outputs (`RESULT_TTL_DAYS`): its download is then 410.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_at: Option<String>,
}

/// One image of a new task; `cached` is its reusable earlier result, if any.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewImage {
    pub image: ImageRef,
    pub cached: Option<Output>,
}

/// Everything the API validated for a new task (`POST /create` on the object).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewTask {
    pub id: TaskId,
    pub tenant: TenantId,
    pub chain: Chain,
    pub images: Vec<NewImage>,
    pub webhook: Option<String>,
    pub fingerprint: Option<String>,
    /// The creating request runs the first job itself ([`super::inline`]) instead of the queue.
    #[serde(default)]
    pub inline: bool,
}

/// The moment and rules a transition runs under (the object supplies them; tests pick them).
#[derive(Debug, Clone)]
pub struct Tick {
    pub ms: u64,
    pub iso: String,
    /// Rules for steps and the zip.
    pub policy: Policy,
    /// A random number in [0, 1) for backoff jitter.
    pub jitter: f64,
}

/// Webhooks retry longer than steps: the receiver may be down for a while.
pub const WEBHOOK_RETRIES: u32 = 6;

impl Tick {
    pub fn webhook_policy(&self) -> Policy {
        Policy { max_retries: WEBHOOK_RETRIES, ..self.policy }
    }
}

/// What a transition asks the object to do: append and push events, send jobs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    pub events: Vec<super::events::Event>,
    pub enqueue: Vec<JobRef>,
}

impl Effects {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.enqueue.is_empty()
    }

    pub fn extend(&mut self, other: Effects) {
        self.events.extend(other.events);
        self.enqueue.extend(other.enqueue);
    }
}
