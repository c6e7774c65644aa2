//! Keeps the tenant's index (`GET /tasks`) in step with the task: a full snapshot after every
//! change a listing shows, versioned by the last event's seq so a late write never wins.

use super::events::Event;
use super::lease::JobStatus;
use super::model::Task;
use super::view;
use crate::tenant::client::TenantIndex;
use crate::tenant::protocol::IndexError;
use crate::tenant::usage::TaskCharge;
use crate::tenant::TaskRow;
use worker::Env;

/// Whether an event changes what a listing shows (status, progress, outputs, error); a step
/// starting, reporting an encode or being retried does not, and is not worth a write.
pub fn is_visible(event: &Event) -> bool {
    !matches!(event, Event::StepStarted { .. } | Event::StepProgress { .. } | Event::StepRetrying { .. })
}

/// What the task adds to its tenant's usage once it ends: the outputs and zip it lists, and the
/// steps that ran (a reused result's steps did not run).
pub fn charge(task: &Task) -> TaskCharge {
    let outputs = task.images.iter().filter_map(|i| i.output.as_ref());
    let archive = task.archive.as_ref().and_then(|a| a.output.as_ref());
    let ran = task.images.iter().flat_map(|i| &i.steps).filter(|s| s.lease.status == JobStatus::Succeeded && !s.cached);
    let (steps_run, step_ms) = ran.fold((0, 0), |(n, ms), s| (n + 1, ms + s.duration_ms.unwrap_or(0)));
    TaskCharge { stored_bytes: outputs.chain(archive).map(|o| o.bytes).sum(), steps_run, step_ms }
}

/// Writes the task's snapshot at `version` into its tenant's index.
pub async fn sync(env: &Env, task: &Task, version: u64) -> Result<(), IndexError> {
    let status = super::protocol::status_name(task.status).to_string();
    let row = TaskRow {
        id: task.id.clone(),
        status,
        version,
        images: task.images.iter().map(|i| i.image.id.clone()).collect(),
        body: view::public_task(task),
        charge: charge(task),
        results: view::output_keys(task),
    };
    TenantIndex::new(env, &task.tenant)?.put_task(&row).await
}
