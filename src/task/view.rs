//! The task object as clients see it (`GET /tasks/{id}`), built from the stored [`Task`].
//!
//! The contract lists one entry per chain step; with several images each entry summarises that
//! step across all of them.

use super::lease::JobStatus as StepStatus;
use super::model::{Task, TaskStatus};
use super::protocol::Refusal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The contract's task object, without `links` (the API layer adds those: they depend on the
/// URL the client used).
pub fn public_task(task: &Task) -> Value {
    let steps: Vec<Value> = task
        .chain
        .steps()
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let states: Vec<_> = task.images.iter().map(|img| &img.steps[i]).collect();
            let status = summarise(states.iter().map(|s| s.lease.status));
            let attempts = states.iter().map(|s| s.lease.attempts).max().unwrap_or(0);
            let duration: Option<u64> = states.iter().map(|s| s.duration_ms).sum();
            let memory = states.iter().filter_map(|s| s.memory_bytes).max();
            json!({"op": step.op(), "status": status, "attempts": attempts, "duration_ms": duration, "memory_bytes": memory})
        })
        .collect();
    let mut public = json!({
        "id": task.id,
        "status": task.status,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "progress": task.progress(),
        "steps": steps,
        "outputs": task.public_outputs(),
        "error": task.error,
    });
    if let Some(at) = &task.expired_at {
        public["expired_at"] = at.as_str().into();
    }
    public
}

/// One status for a step across images: failed beats running beats queued; succeeded only
/// when every image's step has.
fn summarise(statuses: impl Iterator<Item = StepStatus>) -> StepStatus {
    let all: Vec<StepStatus> = statuses.collect();
    if all.contains(&StepStatus::Failed) {
        StepStatus::Failed
    } else if !all.is_empty() && all.iter().all(|s| *s == StepStatus::Succeeded) {
        StepStatus::Succeeded
    } else if all.iter().any(|s| matches!(s, StepStatus::Running | StepStatus::Succeeded)) {
        StepStatus::Running
    } else {
        StepStatus::Queued
    }
}

/// What `GET /download` tells the download route: where the file is and its name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DownloadInfo {
    pub key: String,
    pub filename: String,
}

/// The finished task's download (the zip for several images, else the one output), or why it
/// has none: its status, or its outputs expired.
pub fn download(task: &Task) -> Result<DownloadInfo, Refusal> {
    if task.status != TaskStatus::Succeeded {
        return Err(Refusal::Conflict(task.status));
    }
    if let Some(at) = &task.expired_at {
        return Err(Refusal::Expired(at.clone()));
    }
    let info = match (&task.archive, task.images.first()) {
        (Some(archive), _) => archive.output.as_ref().map(|o| DownloadInfo { key: o.key.clone(), filename: format!("{}.zip", task.id) }),
        (None, Some(image)) => image
            .output
            .as_ref()
            .map(|o| DownloadInfo { key: o.key.clone(), filename: super::names::single_name(&image.image.name, &o.content_type) }),
        (None, None) => None,
    };
    info.ok_or(Refusal::Conflict(task.status))
}

/// What retention deletes of an ended task: its outputs' keys (the task's own prefix, with its
/// zip and checkpoints, is deleted by prefix).
pub fn output_keys(task: &Task) -> Vec<String> {
    task.images.iter().filter_map(|i| i.output.as_ref()).map(|o| o.key.clone()).collect()
}
