//! Retention: the cron deletes the outputs of tasks that ended more than `RESULT_TTL_DAYS` ago
//! (results, zips and any checkpoints left), keeps the task records (marked `expired_at`, so
//! their download answers 410 `expired`) and keeps originals until they are deleted.
//!
//! For each tenant (found by its originals, [`crate::tenant::directory`]) its index names the
//! ended tasks older than the cutoff; each task object marks itself expired and names its
//! outputs; the index says which of those no live task shares; those and the task's own
//! prefix (`tasks/{task}/`: zip, checkpoints) are deleted; then the index marks the task.
//! The index marks last, so a run that stops halfway is finished by the next one.

use crate::bindings::IMAGES_BUCKET;
use crate::ids::{TaskId, TenantId};
use crate::storage::{delete_keys, list_keys};
use crate::task::client::TaskClient;
use crate::task::protocol::{Refusal, TaskError};
use crate::tenant::client::TenantIndex;
use crate::tenant::directory;
use thiserror::Error;
use worker::{Bucket, Env};

/// Tasks handled per index call (the loop goes on until a tenant has none left).
const BATCH: u32 = 100;
const DAY_MS: u64 = 86_400_000;

#[derive(Debug, Error)]
pub enum RetentionError {
    #[error("retention: {0}")]
    Platform(String),
}

impl From<worker::Error> for RetentionError {
    fn from(e: worker::Error) -> Self {
        RetentionError::Platform(e.to_string())
    }
}

impl From<crate::tenant::protocol::IndexError> for RetentionError {
    fn from(e: crate::tenant::protocol::IndexError) -> Self {
        RetentionError::Platform(e.to_string())
    }
}

/// What one run did, for its log line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub tenants: usize,
    pub tasks: usize,
    pub objects: usize,
}

/// The cutoff for a run at `now_ms`: tasks last updated before it expire.
pub fn cutoff_ms(now_ms: u64, ttl_days: u64) -> u64 {
    now_ms.saturating_sub(ttl_days.saturating_mul(DAY_MS))
}

fn iso(ms: u64) -> String {
    String::from(js_sys::Date::new(&(ms as f64).into()).to_iso_string())
}

/// Expires every tenant's tasks that ended before `now_ms - ttl_days`.
pub async fn run(env: &Env, now_ms: u64, ttl_days: u64) -> Result<Swept, RetentionError> {
    let bucket = env.bucket(IMAGES_BUCKET)?;
    let (before, now) = (iso(cutoff_ms(now_ms, ttl_days)), iso(now_ms));
    let mut swept = Swept::default();
    for tenant in directory::tenants(&bucket).await? {
        swept.tenants += 1;
        let index = TenantIndex::new(env, &tenant)?;
        loop {
            let batch = index.expiry_candidates(&before, BATCH).await?;
            for task in &batch {
                swept.objects += expire(env, &bucket, &index, &tenant, task, &now).await?;
                swept.tasks += 1;
            }
            if batch.len() < BATCH as usize {
                break;
            }
        }
    }
    Ok(swept)
}

/// Expires one task; returns how many R2 objects were deleted.
async fn expire(
    env: &Env,
    bucket: &Bucket,
    index: &TenantIndex,
    tenant: &TenantId,
    task: &TaskId,
    now: &str,
) -> Result<usize, RetentionError> {
    let (keys, at) = match TaskClient::new(env, tenant, task)?.expire(now).await {
        Ok(expired) => (expired.outputs, expired.expired_at),
        // Listed but gone or not ended after all (a stale row): nothing of it to delete.
        Err(TaskError::Refused(Refusal::NotFound | Refusal::Conflict(_))) => (Vec::new(), now.to_string()),
        Err(e) => return Err(RetentionError::Platform(e.to_string())),
    };
    let mut doomed = index.unshared_results(task, &keys).await?;
    doomed.extend(list_keys(bucket, &crate::keys::task_prefix(task)).await?);
    delete_keys(bucket, &doomed).await?;
    index.mark_expired(task, &at).await?;
    Ok(doomed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_the_ttl_before_the_run_and_never_underflows() {
        assert_eq!(cutoff_ms(31 * DAY_MS, 30), DAY_MS);
        assert_eq!(cutoff_ms(1_000, 30), 0);
        assert_eq!(cutoff_ms(u64::MAX, u64::MAX), 0);
    }
}
