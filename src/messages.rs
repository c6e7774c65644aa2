//! What travels between the task's Durable Object and the queue consumer. Queue messages carry
//! ids and indexes, never image bytes.

use crate::ids::TaskId;
use functions::{Format, Step};
use serde::{Deserialize, Serialize};

/// One step of one image of one task; the queue's unit of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepMessage {
    pub task: TaskId,
    /// Index into the task's images.
    pub image: usize,
    pub step: usize,
}

/// The consumer asks the task object whether to run a delivered step (`POST /claim`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimRequest {
    pub image: usize,
    pub step: usize,
}

/// What the consumer needs to run a claimed step; `None` in [`ClaimResponse::run`] means skip
/// (a duplicate delivery, or the task already ended).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSpec {
    /// The attempt number the object assigned to this run; the completion must quote it.
    pub attempt: u32,
    pub step: Step,
    pub is_first: bool,
    pub is_last: bool,
    /// Other images the step reads: (image id, R2 key).
    pub aux: Vec<(String, String)>,
    pub source_format: Format,
    pub input_key: String,
    pub output_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimResponse {
    pub run: Option<RunSpec>,
}

/// A finished attempt, reported by the consumer (`POST /complete`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Completion {
    pub image: usize,
    pub step: usize,
    pub attempt: u32,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded { content_type: String, width: u32, height: u32, bytes: u64, duration_ms: u64, memory_bytes: u64 },
    Failed { code: String, message: String },
}
