//! Who is calling, and may they: a bearer token (or, on the routes a browser opens without
//! headers, a signed link), then the tenant's rate limit. Also mints the signed links that
//! task objects carry.

use super::error::{ApiError, ApiResult};
use super::{AppState, Ctx};
use crate::auth;
use crate::clock::now_secs;
use crate::ids::TenantId;
use crate::links::{self, LinkParams};
use crate::ratelimit::object::{charge, LimitError};
use crate::ratelimit::Cost;
use worker::{Method, Request};

/// The tenant of a request that must carry a bearer token, charged `cost`.
pub async fn admit(req: &Request, ctx: &Ctx, cost: Cost) -> ApiResult<TenantId> {
    let tenant = authenticate(req, &ctx.data)?;
    charge(&ctx.env, &tenant, cost, ctx.data.config.rate_limit_per_minute).await?;
    Ok(tenant)
}

/// The tenant of a request whose cost is only known from its body (task creation): call
/// [`charge_work`] once the body is parsed, before any work is done.
pub fn identify(req: &Request, ctx: &Ctx) -> ApiResult<TenantId> {
    authenticate(req, &ctx.data)
}

/// Charges a request identified by [`identify`].
pub async fn charge_work(ctx: &Ctx, tenant: &TenantId, cost: Cost) -> Result<(), LimitError> {
    charge(&ctx.env, tenant, cost, ctx.data.config.rate_limit_per_minute).await
}

/// Like [`admit`], but a valid signed link for exactly this method and path stands in for the
/// token (WebSocket, SSE and download routes). A request with a link but no token must have
/// a valid link: a tampered or expired one is 401, never a fallback.
pub async fn admit_link(req: &Request, ctx: &Ctx, cost: Cost) -> ApiResult<TenantId> {
    Ok(admit_signed(req, ctx, &req.path(), cost).await?.0)
}

/// How a request was let in; a render's caching depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Bearer,
    Link,
}

/// [`admit_link`] for a link that grants `resource`: the path, or for a render the path with
/// its canonical options (a render link grants one rendition, not every size of the image).
pub async fn admit_signed(req: &Request, ctx: &Ctx, resource: &str, cost: Cost) -> ApiResult<(TenantId, Access)> {
    let (tenant, access) = identify_signed(req, ctx, resource)?;
    charge(&ctx.env, &tenant, cost, ctx.data.config.rate_limit_per_minute).await?;
    Ok((tenant, access))
}

/// Who a request with a token or a signed link for `resource` is, without charging it yet (a
/// render charges after its edge-cache lookup: see `api/render.rs`).
pub fn identify_signed(req: &Request, ctx: &Ctx, resource: &str) -> ApiResult<(TenantId, Access)> {
    let has_token = req.headers().get("authorization")?.is_some();
    let pairs = super::query_pairs(req)?;
    let link = LinkParams::from_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (tenant, access) = match link {
        Some(params) if !has_token => {
            let method = req.method().to_string();
            let tenant = links::verify(&params?, &method, resource, &ctx.data.config.verifying_secrets(), now_secs())?;
            (tenant, Access::Link)
        }
        _ => (authenticate(req, &ctx.data)?, Access::Bearer),
    };
    remember(&ctx.data, &tenant);
    Ok((tenant, access))
}

/// The caller of an `/admin/…` route: a bearer token with the claim `"role": "admin"`. Any
/// other caller (no token, a bad one, a tenant's) is told there is nothing here (404), so the
/// routes' existence is not advertised.
pub async fn admit_admin(req: &Request, ctx: &Ctx) -> ApiResult<TenantId> {
    let identity = bearer(req, &ctx.data).map_err(|_| ApiError::NotFound)?;
    if !identity.admin {
        return Err(ApiError::NotFound);
    }
    remember(&ctx.data, &identity.tenant);
    charge(&ctx.env, &identity.tenant, Cost::Write, ctx.data.config.rate_limit_per_minute).await?;
    Ok(identity.tenant)
}

/// The tenant of the request's bearer token.
fn authenticate(req: &Request, state: &AppState) -> ApiResult<TenantId> {
    let identity = bearer(req, state)?;
    remember(state, &identity.tenant);
    Ok(identity.tenant)
}

/// The verified bearer token.
fn bearer(req: &Request, state: &AppState) -> ApiResult<auth::Identity> {
    let header = req.headers().get("authorization")?;
    let token = auth::bearer(header.as_deref())?;
    Ok(auth::verify_any(token, &state.config.verifying_secrets(), now_secs())?)
}

/// `base + path` signed for `tenant` (GET), valid for the configured link lifetime.
pub fn signed_url(state: &AppState, tenant: &TenantId, base: &str, path: &str) -> String {
    let exp = now_secs() + state.config.link_ttl_seconds as i64;
    let query = links::sign(state.config.auth_secret.bytes(), Method::Get.as_ref(), path, tenant, exp);
    format!("{base}{path}?{query}")
}

/// `base + resource` (a path, optionally with its own query) signed for `tenant` (GET) until `exp`.
pub fn signed_resource(state: &AppState, tenant: &TenantId, base: &str, resource: &str, exp: i64) -> String {
    let query = links::sign(state.config.auth_secret.bytes(), Method::Get.as_ref(), resource, tenant, exp);
    let join = if resource.contains('?') { '&' } else { '?' };
    format!("{base}{resource}{join}{query}")
}

/// Notes the identified tenant for the request's log line and data point.
fn remember(state: &AppState, tenant: &TenantId) {
    *state.tenant.borrow_mut() = Some(tenant.as_str().to_string());
}
