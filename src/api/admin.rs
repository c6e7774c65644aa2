//! `/admin/…`: backups, restore and the usage backfill, for a token with the claim `"role": "admin"` only (any
//! other caller gets 404, see [`super::gate::admit_admin`]).

use super::body::{self, BodyLimit};
use super::error::{ApiError, ApiResult};
use super::gate::admit_admin;
use super::{json_response, Ctx};
use crate::backup::{self, BackupError};
use crate::clock::now_millis;
use crate::ids::TenantId;
use crate::tenant::client::TenantIndex;
use serde::Deserialize;
use serde_json::json;
use worker::{Request, Response};

/// A restore or recompute request is one or two ids.
const RESTORE_BODY_LIMIT: BodyLimit = BodyLimit { bytes: 4096, what: "restore requests", source: "4 KiB" };

/// Backups `GET /admin/backups` lists, newest first.
const LISTED: usize = 100;

impl From<BackupError> for ApiError {
    fn from(e: BackupError) -> Self {
        match e {
            BackupError::NotFound(m) => ApiError::InvalidRequest(m),
            BackupError::Platform(cause) => ApiError::Internal(cause),
        }
    }
}

/// `POST /admin/backups`: takes a backup now; 201 with its manifest.
pub async fn create(req: Request, ctx: Ctx) -> ApiResult<Response> {
    admit_admin(&req, &ctx).await?;
    let manifest = backup::run(&ctx.env, now_millis()).await?;
    json_response(&serde_json::to_value(manifest).map_err(|e| ApiError::Internal(e.to_string()))?, 201)
}

/// `GET /admin/backups`: `{"items": [manifest…]}`, newest first.
pub async fn list(req: Request, ctx: Ctx) -> ApiResult<Response> {
    admit_admin(&req, &ctx).await?;
    let items = backup::list(&ctx.env, LISTED).await?;
    json_response(&json!({"items": items}), 200)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestoreRequest {
    backup: String,
    tenant: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantRequest {
    tenant: String,
}

fn tenant_id(tenant: &str) -> ApiResult<TenantId> {
    TenantId::parse(tenant).ok_or_else(|| ApiError::InvalidRequest("tenant: not a tenant id".into()))
}

/// `POST /admin/usage` `{"tenant": "<id>"}`: recomputes the tenant's usage counters from its
/// index, once, for an index from before usage tracking (docs/OPERATIONS.md).
pub async fn recompute_usage(mut req: Request, ctx: Ctx) -> ApiResult<Response> {
    admit_admin(&req, &ctx).await?;
    let bytes = body::read(&mut req, &RESTORE_BODY_LIMIT).await?;
    let request: TenantRequest = serde_json::from_slice(&bytes).map_err(|e| ApiError::InvalidJson(e.to_string()))?;
    let tenant = tenant_id(&request.tenant)?;
    let done = TenantIndex::new(&ctx.env, &tenant)?.recompute_usage().await?;
    json_response(&json!({"tenant": tenant, "before": done.before, "after": done.after, "tasks_charged": done.tasks_charged}), 200)
}

/// `POST /admin/restore` `{"backup": "<id>", "tenant": "<id>"}`: replaces the tenant's index with
/// the backup's and copies back its missing originals.
pub async fn restore(mut req: Request, ctx: Ctx) -> ApiResult<Response> {
    admit_admin(&req, &ctx).await?;
    let bytes = body::read(&mut req, &RESTORE_BODY_LIMIT).await?;
    let request: RestoreRequest = serde_json::from_slice(&bytes).map_err(|e| ApiError::InvalidJson(e.to_string()))?;
    let tenant = tenant_id(&request.tenant)?;
    let restored = backup::restore(&ctx.env, &request.backup, &tenant).await?;
    json_response(&serde_json::to_value(restored).map_err(|e| ApiError::Internal(e.to_string()))?, 200)
}
