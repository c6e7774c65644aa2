//! Live streams: a task's events (`/tasks/{id}/ws`, `/tasks/{id}/events`) and the tenant's feed
//! of task summaries (`/events/ws`, `/events`), each as a WebSocket or as Server-Sent Events.
//! All four take a bearer token or a signed link, and resume from `?since=` or `Last-Event-ID`.

use super::error::{ApiError, ApiResult};
use super::gate::{admit_link, signed_url};
use super::{param, query_pairs, AppState, Ctx};
use crate::ids::{TaskId, TenantId};
use crate::live::sse;
use crate::ratelimit::Cost;
use crate::task::client::TaskClient;
use crate::tenant::client::TenantIndex;
use serde_json::{json, Value};
use worker::{Request, Response};

/// The position to resume after: `Last-Event-ID` (an `EventSource` reconnecting) wins over
/// `?since=`; neither means the whole history.
fn since(req: &Request) -> ApiResult<u64> {
    let bad = |field: &str| ApiError::InvalidRequest(format!("{field}: must be a non-negative integer (an event seq)"));
    if let Some(id) = req.headers().get("last-event-id")?.filter(|v| !v.trim().is_empty()) {
        return id.trim().parse().map_err(|_| bad("Last-Event-ID"));
    }
    match query_pairs(req)?.into_iter().find(|(k, _)| k == "since") {
        Some((_, v)) => v.parse().map_err(|_| bad("since")),
        None => Ok(0),
    }
}

fn require_upgrade(req: &Request) -> ApiResult<()> {
    match req.headers().get("upgrade")?.is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
        true => Ok(()),
        false => Err(ApiError::InvalidRequest("this route needs a WebSocket upgrade (Upgrade: websocket)".into())),
    }
}

pub async fn task_ws(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit_link(&req, &ctx, Cost::Read).await?;
    let id = TaskId::parse(param(&ctx, "id")?)?;
    require_upgrade(&req)?;
    Ok(TaskClient::new(&ctx.env, &tenant, &id)?.websocket(since(&req)?).await?)
}

pub async fn task_events(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit_link(&req, &ctx, Cost::Read).await?;
    let id = TaskId::parse(param(&ctx, "id")?)?;
    let upstream = TaskClient::new(&ctx.env, &tenant, &id)?.websocket(since(&req)?).await?;
    Ok(sse::bridge(upstream)?)
}

pub async fn feed_ws(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit_link(&req, &ctx, Cost::Read).await?;
    require_upgrade(&req)?;
    Ok(TenantIndex::new(&ctx.env, &tenant)?.websocket(since(&req)?).await?)
}

pub async fn feed_events(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit_link(&req, &ctx, Cost::Read).await?;
    let upstream = TenantIndex::new(&ctx.env, &tenant)?.websocket(since(&req)?).await?;
    Ok(sse::bridge(upstream)?)
}

/// Signed links to the tenant's feed, for dashboards in a browser (listed with `GET /tasks`).
pub fn feed_links(req: &Request, state: &AppState, tenant: &TenantId) -> ApiResult<Value> {
    let http = req.url()?.origin().ascii_serialization();
    let ws = http.replacen("http", "ws", 1);
    Ok(json!({"feed_ws": signed_url(state, tenant, &ws, "/events/ws"), "feed_events": signed_url(state, tenant, &http, "/events")}))
}
