//! `/tasks` and `/steps`: validate a chain up front, create its task object, read it, stream it.

use super::{authenticate, json_response, param, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::ids::{ImageId, TaskId};
use crate::storage::Images;
use crate::task::client::TaskClient;
use crate::task::object::CreateTask;
use crate::task::state::ImageRef;
use functions::{plan::plan, registry, Chain};
use serde_json::{Map, Value};
use worker::{Request, Response};

/// Most images one task may process (the contract's bound).
const MAX_IMAGES: usize = 100;
/// Fields a task request may carry.
const FIELDS: &[&str] = &["images", "steps", "preset", "webhook"];

pub async fn steps(req: Request, ctx: Ctx) -> ApiResult<Response> {
    authenticate(&req, &ctx.data)?;
    json_response(&registry::catalogue(), 200)
}

pub async fn create(mut req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = authenticate(&req, &ctx.data)?;
    let text = req.text().await.map_err(|_| ApiError::InvalidJson("the body is not UTF-8 text".into()))?;
    let body: Value = serde_json::from_str(&text).map_err(|e| ApiError::InvalidJson(format!("the body is not JSON: {e}")))?;
    let body = body.as_object().ok_or_else(|| ApiError::InvalidRequest("the body must be a JSON object".into()))?;
    let (image_ids, chain) = parse_request(body)?;
    let images = Images::new(&ctx.env)?;
    // Images a step refers to (a watermark) must be the tenant's too: another's is "not found".
    for aux in chain.steps().iter().flat_map(|s| s.aux_images()) {
        images.get_record(&tenant, &ImageId::parse(aux)?).await?;
    }
    let mut refs = Vec::with_capacity(image_ids.len());
    for id in image_ids {
        let record = images.get_record(&tenant, &id).await?;
        // Refuse what cannot fit before anything is queued or decoded.
        plan(&record.info(), record.bytes, &chain, ctx.data.config.limits())?;
        refs.push(ImageRef { id: record.id, name: record.name, format: record.format });
    }
    let id = TaskId::generate()?;
    let task = TaskClient::new(&ctx.env, &id)?.create(&CreateTask { id: id.clone(), tenant, chain, images: refs }).await?;
    json_response(&with_links(task, &req, &id)?, 202)
}

/// Validates the request's shape; ids are checked against storage by the caller.
fn parse_request(body: &Map<String, Value>) -> ApiResult<(Vec<ImageId>, Chain)> {
    if let Some(k) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::InvalidRequest(format!("{k}: is not a field of a task request")));
    }
    // Documented deviation (README): presets and webhooks arrive with the task-chain issue.
    for unsupported in ["preset", "webhook"] {
        if body.contains_key(unsupported) {
            return Err(ApiError::InvalidRequest(format!("{unsupported}: not supported by this server yet")));
        }
    }
    let images = body
        .get("images")
        .and_then(Value::as_array)
        .filter(|a| (1..=MAX_IMAGES).contains(&a.len()))
        .ok_or_else(|| ApiError::InvalidRequest(format!("images: must be an array of 1 to {MAX_IMAGES} image ids")))?;
    if images.len() > 1 {
        // Documented deviation (README): several images need the zip download of issue 4.
        return Err(ApiError::InvalidRequest("images: one image per task for now".into()));
    }
    let ids = images
        .iter()
        .map(|v| v.as_str().ok_or_else(|| ApiError::InvalidRequest("images: every id must be a string".into())).and_then(ImageId::parse))
        .collect::<ApiResult<Vec<_>>>()?;
    let steps = body.get("steps").ok_or_else(|| ApiError::InvalidChain("steps: is required".into()))?;
    let chain = Chain::parse(steps).map_err(|e| ApiError::InvalidChain(e.to_string()))?;
    Ok((ids, chain))
}

/// Adds the `links` of the task object, on the host the client used.
fn with_links(mut task: Value, req: &Request, id: &TaskId) -> ApiResult<Value> {
    let url = req.url()?;
    let http = url.origin().ascii_serialization();
    let ws = http.replacen("http", "ws", 1);
    task["links"] = serde_json::json!({
        "download": format!("{http}/tasks/{id}/download"),
        "ws": format!("{ws}/tasks/{id}/ws"),
    });
    Ok(task)
}

pub async fn get(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = authenticate(&req, &ctx.data)?;
    let id = TaskId::parse(param(&ctx, "id")?)?;
    let task = TaskClient::new(&ctx.env, &id)?.state(&tenant).await?;
    json_response(&with_links(task, &req, &id)?, 200)
}

pub async fn websocket(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = authenticate(&req, &ctx.data)?;
    let id = TaskId::parse(param(&ctx, "id")?)?;
    if !req.headers().get("upgrade")?.is_some_and(|u| u.eq_ignore_ascii_case("websocket")) {
        return Err(ApiError::InvalidRequest("this route needs a WebSocket upgrade (Upgrade: websocket)".into()));
    }
    let since = match req.url()?.query_pairs().find(|(k, _)| k == "since") {
        None => 0,
        Some((_, v)) => v.parse::<u64>().map_err(|_| ApiError::InvalidRequest("since: must be a non-negative integer".into()))?,
    };
    TaskClient::new(&ctx.env, &id)?.websocket(&tenant, since).await
}
