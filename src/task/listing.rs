//! Keeps the tenant's index (`GET /tasks`) in step with the task: a full snapshot after every
//! change a listing shows, versioned by the last event's seq so a late write never wins.

use super::events::Event;
use super::model::Task;
use super::view;
use crate::error::ApiResult;
use crate::tenant::client::TenantIndex;
use crate::tenant::TaskRow;
use worker::Env;

/// Whether an event changes what a listing shows (status, progress, outputs, error); a step
/// starting or being retried does not, and is not worth a write.
pub fn is_visible(event: &Event) -> bool {
    !matches!(event, Event::StepStarted { .. } | Event::StepRetrying { .. })
}

/// Writes the task's snapshot at `version` into its tenant's index.
pub async fn sync(env: &Env, task: &Task, version: u64) -> ApiResult<()> {
    let status = serde_json::to_value(task.status).ok().and_then(|s| s.as_str().map(str::to_string)).unwrap_or_default();
    let row = TaskRow {
        id: task.id.clone(),
        status,
        version,
        images: task.images.iter().map(|i| i.image.id.clone()).collect(),
        body: view::public_task(task),
    };
    TenantIndex::new(env, &task.tenant)?.put_task(&row).await
}
