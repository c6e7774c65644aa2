//! `GET /usage`: the caller's tenant's counters (kept by its index object as images and tasks
//! change) and its storage quota; and the quota check that admits a task.

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

/// Refuses a task while the tenant is at or over its quota. A task's outputs are charged when
/// it ends (their size is unknown before they are encoded), so the one that takes a tenant
/// over its quota runs and the next is refused (docs/OPERATIONS.md, "Usage and quotas").
pub async fn admit_task(env: &Env, tenant: &TenantId, quota: Option<u64>) -> ApiResult<()> {
    if quota.is_none() {
        return Ok(());
    }
    let stored = TenantIndex::new(env, tenant)?.usage().await?.bytes_stored;
    usage::admit(stored, 0, quota).map_err(|over| ApiError::QuotaExceeded(over.to_string()))
}
