//! `GET /usage`: the caller's tenant's counters (kept by its index object as images and tasks
//! change) and its storage quota; and the quota check that admits a task before it exists.

use super::error::{ApiError, ApiResult};
use super::gate::admit;
use super::{json_response, Ctx};
use crate::ids::TenantId;
use crate::ratelimit::Cost;
use crate::tenant::client::TenantIndex;
use crate::tenant::usage;
use serde_json::json;
use worker::{Env, Request, Response};

pub async fn get(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit(&req, &ctx, Cost::Read).await?;
    let usage = TenantIndex::new(&ctx.env, &tenant)?.usage().await?;
    let mut body = serde_json::to_value(usage).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["quota"] = json!({"bytes_stored": ctx.data.config.max_storage_bytes_per_tenant});
    json_response(&body, 200)
}

/// Refuses a task whose outputs (and zip) could take the tenant past its quota: `planned` is
/// their upper bound ([`functions::stored::task_bound`]), since their real size is known only
/// once they are encoded (docs/OPERATIONS.md, "Usage and quotas"). Checked before the task is
/// created, so nothing is stored.
pub async fn admit_task(env: &Env, tenant: &TenantId, quota: Option<u64>, planned: u64) -> ApiResult<()> {
    if quota.is_none() {
        return Ok(());
    }
    let stored = TenantIndex::new(env, tenant)?.usage().await?.bytes_stored;
    usage::admit(stored, planned, quota).map_err(|over| {
        ApiError::QuotaExceeded(format!(
            "this task may store up to {} bytes (its outputs' planned upper bound), which would pass the tenant's quota: {} of {} \
             bytes are stored (MAX_STORAGE_BYTES_PER_TENANT); make its outputs smaller or delete images",
            over.adding, over.stored, over.quota
        ))
    })
}
