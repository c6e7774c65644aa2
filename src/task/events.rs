//! Live event types, exactly as the API contract ("Live events"; `public/openapi.json`) spells them.

use crate::ids::{ImageId, TaskId};
use functions::ops::fit::Attempt;
use functions::ops::region::Region;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

/// An output as the contract shows it (`outputs[]` of the task object and `task.succeeded`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicOutput {
    pub image: ImageId,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// The box kept by the chain's last `trim` or `smart_crop`, in that step's input pixels.
    #[serde(default, rename = "box", skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

/// A task failure: what went wrong, where. `step` and `image` are null when the failure was not
/// one image's step (building the zip).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskError {
    pub code: String,
    pub message: String,
    pub step: Option<usize>,
    pub image: Option<ImageId>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The event itself; `type` is the tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    #[serde(rename = "task.queued")]
    TaskQueued { progress: Progress },
    #[serde(rename = "step.started")]
    StepStarted { image: ImageId, step: usize, op: String, attempt: u32 },
    #[serde(rename = "step.succeeded")]
    StepSucceeded {
        image: ImageId,
        step: usize,
        op: String,
        duration_ms: u64,
        memory_bytes: u64,
        progress: Progress,
        /// The result came from an earlier identical run; nothing ran.
        #[serde(default, skip_serializing_if = "is_false")]
        cached: bool,
        /// The box of its input a content-aware step (`trim`, `smart_crop`) kept.
        #[serde(default, rename = "box", skip_serializing_if = "Option::is_none")]
        region: Option<Region>,
    },
    /// One encode of a running `encode` step's `max_bytes` search (at most six): which, at what
    /// quality, how many bytes, and whether they fit. Not in the original contract: an addition
    /// (README, "Deviations").
    #[serde(rename = "step.progress")]
    StepProgress { image: ImageId, step: usize, op: String, attempt: u32, search: Attempt },
    /// A transient failure or a silent run: attempt `attempt` follows after `delay_ms`.
    #[serde(rename = "step.retrying")]
    StepRetrying { image: ImageId, step: usize, op: String, attempt: u32, delay_ms: u64, error: StepError },
    #[serde(rename = "step.failed")]
    StepFailed { image: ImageId, step: usize, op: String, error: StepError, progress: Progress },
    #[serde(rename = "task.succeeded")]
    TaskSucceeded { outputs: Vec<PublicOutput>, progress: Progress },
    #[serde(rename = "task.failed")]
    TaskFailed { error: TaskError, progress: Progress },
    #[serde(rename = "task.cancelled")]
    TaskCancelled { progress: Progress },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepError {
    pub code: String,
    pub message: String,
}

impl Event {
    /// Whether this event ends the task (the stream closes after it).
    pub fn is_terminal(&self) -> bool {
        matches!(self, Event::TaskSucceeded { .. } | Event::TaskFailed { .. } | Event::TaskCancelled { .. })
    }

    /// The contract's `type` of the event.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::TaskQueued { .. } => "task.queued",
            Event::StepStarted { .. } => "step.started",
            Event::StepSucceeded { .. } => "step.succeeded",
            Event::StepProgress { .. } => "step.progress",
            Event::StepRetrying { .. } => "step.retrying",
            Event::StepFailed { .. } => "step.failed",
            Event::TaskSucceeded { .. } => "task.succeeded",
            Event::TaskFailed { .. } => "task.failed",
            Event::TaskCancelled { .. } => "task.cancelled",
        }
    }
}

/// An event with its place in the task's log: what is stored, sent and replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: u64,
    pub task: TaskId,
    pub at: String,
    #[serde(flatten)]
    pub event: Event,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_serialises_flat_with_type_tag() {
        let env = Envelope {
            seq: 4,
            task: TaskId::parse("task_0123456789abcdef0123456789abcdef").expect("id"),
            at: "2026-11-23T00:00:00.000Z".into(),
            event: Event::TaskQueued { progress: Progress { done: 0, total: 3 } },
        };
        let v = serde_json::to_value(&env).expect("json");
        assert_eq!(v["type"], "task.queued");
        assert_eq!(v["seq"], 4);
        assert_eq!(v["progress"]["total"], 3);
    }
}
