//! `GET /usage`: the caller's tenant's counters (kept by its index object as images and tasks
//! change) and its storage quota; and the quota reservation that admits a task before it
//! exists.

use super::error::{ApiError, ApiResult};
use super::gate::admit;
use super::{json_response, Ctx};
use crate::ids::{TaskId, TenantId};
use crate::ratelimit::Cost;
use crate::tenant::client::TenantIndex;
use crate::tenant::protocol::IndexError;
use serde_json::json;
use worker::{Env, Request, Response};

pub async fn get(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit(&req, &ctx, Cost::Read).await?;
    let usage = TenantIndex::new(&ctx.env, &tenant)?.usage().await?;
    let mut body = serde_json::to_value(usage).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["quota"] = json!({"bytes_stored": ctx.data.config.max_storage_bytes_per_tenant});
    json_response(&body, 200)
}

/// Admits a task whose outputs (and zip) may store up to `planned` bytes, their upper bound
/// ([`functions::stored::task_bound`]), since their real size is known only once they are
/// encoded (docs/OPERATIONS.md, "Usage and quotas"). The tenant's index checks the bound beside
/// the stored bytes and the bounds of tasks still running, and reserves it under the task's id
/// until the task ends; refused, nothing is created. Unlimited, nothing is reserved.
pub async fn reserve_task(env: &Env, tenant: &TenantId, task: &TaskId, quota: Option<u64>, planned: u64) -> ApiResult<()> {
    if quota.is_none() {
        return Ok(());
    }
    TenantIndex::new(env, tenant)?.reserve(task, planned, quota).await.map_err(|e| match e {
        IndexError::OverQuota(over) => ApiError::QuotaExceeded(format!(
            "this task may store up to {} bytes (its outputs' planned upper bound), which would pass the tenant's quota of {} bytes \
             (MAX_STORAGE_BYTES_PER_TENANT): {} bytes are stored and {} reserved for the outputs of tasks still running; make its \
             outputs smaller, wait for running tasks to end or delete images",
            over.adding, over.quota, over.stored, over.reserved
        )),
        other => other.into(),
    })
}

/// The task admitted by [`reserve_task`] could not be created: gives its reservation back (the
/// index keeps it if the task exists after all). A failure here is only logged: the
/// reservation then expires on its own (`tenant::reservations::PENDING_MS`).
pub async fn release_task(env: &Env, tenant: &TenantId, task: &TaskId, quota: Option<u64>) {
    if quota.is_none() {
        return;
    }
    let released = match TenantIndex::new(env, tenant) {
        Ok(index) => index.release_unlisted(task).await,
        Err(e) => Err(e.into()),
    };
    if let Err(e) = released {
        crate::log::error("release_failed").tenant(tenant.as_str()).task(task.as_str()).field("error", e.to_string()).emit();
    }
}
