//! Keeps the tenant's index (`GET /tasks`) in step with the task: a full snapshot after every
//! change a listing shows, versioned by the last event's seq so a late write never wins.

use super::events::Event;
use super::model::Task;
use super::view;
use crate::tenant::client::TenantIndex;
use crate::tenant::protocol::IndexError;
use crate::tenant::TaskRow;
use worker::Env;

/// Whether an event changes what a listing shows (status, progress, outputs, error); a step
/// starting or being retried does not, and is not worth a write.
pub fn is_visible(event: &Event) -> bool {
    !matches!(event, Event::StepStarted { .. } | Event::StepRetrying { .. })
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
    };
    TenantIndex::new(env, &task.tenant)?.put_task(&row).await
}
