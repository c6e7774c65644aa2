//! The task object's protocol, shared by its client ([`super::client`]) and the object
//! ([`super::object`]): one request type naming the tenant and the call, one refusal type, and
//! a typed answer per call, so the compiler checks both sides.
//!
//! Every request names its tenant (there is no "any tenant"): a task of another tenant is
//! answered exactly like a missing one. The queue consumer knows the tenant from the job's
//! message.

use super::model::{NewTask, TaskStatus};
use crate::ids::TenantId;
use crate::messages::{Claimed, Completion, JobRef, StepProgress};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// One call into a task object (`POST /call`). The WebSocket upgrade is the one request that
/// cannot be a call: it is forwarded as is (`GET /ws`, the tenant in [`TENANT_HEADER`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRequest {
    pub tenant: TenantId,
    pub call: Call,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    /// Answer: [`Created`].
    Create(Box<NewTask>),
    /// Answer: the public task object.
    State,
    /// Answer: [`super::view::DownloadInfo`]; `Conflict` before success.
    Download,
    /// Answer: the public task object; `Conflict` once the task has ended.
    Cancel,
    /// Answer: [`crate::messages::ClaimResponse`].
    Claim(JobRef),
    /// Answer: [`crate::messages::CompletionResponse`].
    Complete(Completion),
    /// Reports a job held back and sent together, recorded in order (`task::held`). Answer:
    /// the last recorded one's [`crate::messages::CompletionResponse`].
    CompleteHeld(Vec<Completion>),
    /// One encode of a running step's search, for its subscribers. Answer: whether it was
    /// recorded (not for a stale attempt or an ended task).
    Progress(StepProgress),
    /// A job whose message exhausted the queue's retries. Answer: the task's status.
    GiveUp(JobRef),
    /// Retention: marks the ended task's outputs expired at the given time (kept if already
    /// marked). Answer: [`Expired`]; `Conflict` while the task runs.
    Expire(String),
}

/// The answer to [`Call::Expire`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Expired {
    /// The result keys of its outputs (shared results are kept by the caller, see
    /// `crate::retention`).
    pub outputs: Vec<String>,
    pub expired_at: String,
}

/// Header carrying the tenant on the forwarded WebSocket upgrade.
pub const TENANT_HEADER: &str = "x-tenant";

/// The answer to [`Call::Create`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    /// The public task object.
    pub task: Value,
    /// `false`: the same idempotent request was made before and this is its task.
    pub created: bool,
    /// The job handed to the creating request to run, already claimed ([`super::inline`]), if
    /// it asked for one.
    #[serde(default)]
    pub inline: Option<(JobRef, Claimed)>,
}

/// Why a task object refused a call. Travels in the answer's body (`{"Err": …}`), so the
/// client gets the variant, not a status code to re-interpret.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum Refusal {
    /// No such task, or another tenant's.
    #[error("no such task")]
    NotFound,
    /// The call does not apply to a task in this status.
    #[error("the task is {}", status_name(*.0))]
    Conflict(TaskStatus),
    /// Its outputs were deleted by retention at this time.
    #[error("the task's outputs expired at {0} (RESULT_TTL_DAYS)")]
    Expired(String),
    /// The object's configuration is broken (the names of the bad settings).
    #[error("the task store is misconfigured: {}", .0.join(", "))]
    Misconfigured(Vec<String>),
}

/// What a call can end in, seen from the caller: a refusal, or the platform failing the call.
#[derive(Debug, Error)]
pub enum TaskError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The object could not be reached or answered garbage (the cause, for the log).
    #[error("task object call failed: {0}")]
    Platform(String),
}

impl From<worker::Error> for TaskError {
    fn from(e: worker::Error) -> Self {
        TaskError::Platform(e.to_string())
    }
}

pub fn status_name(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Queued => "queued",
        TaskStatus::Running => "running",
        TaskStatus::Succeeded => "succeeded",
        TaskStatus::Failed => "failed",
        TaskStatus::Cancelled => "cancelled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{ClaimResponse, JobRef};

    #[test]
    fn a_request_and_a_refusal_survive_the_trip_through_json() {
        let request = TaskRequest { tenant: TenantId::parse("alice").expect("tenant"), call: Call::Claim(JobRef::Package) };
        let back: TaskRequest = serde_json::from_str(&serde_json::to_string(&request).expect("ser")).expect("de");
        assert!(matches!(back.call, Call::Claim(JobRef::Package)) && back.tenant.as_str() == "alice");
        let refused: Result<ClaimResponse, Refusal> = Err(Refusal::Conflict(TaskStatus::Cancelled));
        let json = serde_json::to_string(&refused).expect("ser");
        let back: Result<ClaimResponse, Refusal> = serde_json::from_str(&json).expect("de");
        assert_eq!(back.err(), Some(Refusal::Conflict(TaskStatus::Cancelled)));
        assert_eq!(Refusal::Conflict(TaskStatus::Running).to_string(), "the task is running");
    }
}
