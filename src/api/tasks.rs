//! `/tasks`, `/steps` and `/presets`: validate a chain up front, create its task object (or
//! find it again by Idempotency-Key), read it, cancel it, stream it.

use super::body;
use super::error::{ApiError, ApiResult};
use super::gate::{admit, charge_work, identify, signed_url};
use super::task_request::{idempotency_key, result_key, TaskRequest, TASK_BODY_LIMIT};
use super::{json_response, param, query_pairs, AppState, Ctx};
use crate::clock::now_millis;
use crate::ids::{ImageId, TaskId, TenantId};
use crate::messages::{Claimed, Job};
use crate::ratelimit::Cost;
use crate::storage::Images;
use crate::task::client::TaskClient;
use crate::task::model::{ImageRef, NewImage, NewTask};
use crate::task::protocol::{Created, Refusal, TaskError};
use crate::tenant::client::TenantIndex;
use crate::tenant::page::ListQuery;
use functions::{plan::plan, presets, registry, stored, Chain};
use futures_util::future::try_join_all;
use serde_json::Value;
use worker::{Request, Response};

const IDEMPOTENCY_HEADER: &str = "idempotency-key";

pub async fn steps(req: Request, ctx: Ctx) -> ApiResult<Response> {
    admit(&req, &ctx, Cost::Read).await?;
    json_response(&registry::catalogue(), 200)
}

pub async fn list_presets(req: Request, ctx: Ctx) -> ApiResult<Response> {
    admit(&req, &ctx, Cost::Read).await?;
    json_response(&presets::catalogue(), 200)
}

pub async fn create(mut req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = identify(&req, &ctx)?;
    let config = &ctx.data.config;
    let key = req.headers().get(IDEMPOTENCY_HEADER)?;
    let key = key.as_deref().map(idempotency_key).transpose()?;
    let request = read_request(&mut req, &ctx, &tenant).await?;
    let (prepared, bounds) = charge_and_prepare(&ctx, &tenant, &request).await?;
    let id = match key {
        Some(key) => TaskId::for_idempotency_key(config.auth_secret.bytes(), &tenant, key),
        None => TaskId::generate()?,
    };
    // The first job runs here only if this isolate is idle (see `turn::promise`).
    let promise = config.inline_first_job.then(crate::turn::promise).flatten();
    let fingerprint = key.map(|_| request.fingerprint());
    let new = NewTask {
        id: id.clone(),
        tenant: tenant.clone(),
        chain: request.chain,
        images: prepared,
        webhook: request.webhook,
        fingerprint,
        inline: promise.is_some(),
    };
    let Created { task, created, inline } = create_reserved(&ctx, new, stored::task_bound(&bounds)).await?;
    if let (Some((job, claimed)), Some(promise)) = (inline.filter(|_| !config.faults.inline_lost), promise) {
        run_after_answer(&ctx, Job { tenant: tenant.clone(), task: id, job, sent_ms: now_millis() }, claimed, promise);
    }
    let mut answer = json_response(&with_links(task, &req, &ctx.data, &tenant)?, if created { 202 } else { 200 })?;
    // Sent as it is (about 1 KiB): a compressor in front of the Worker would hold the end of
    // its stream until the request's background work is over, here the whole first job. That
    // is what `wrangler dev`'s emulation of the edge's compression does (measured: the 202
    // reached the client after the task had ended); a kilobyte gains nothing from gzip anyway.
    answer.headers_mut().set("content-encoding", "identity")?;
    Ok(answer)
}

/// The request's body, read (at most 64 KiB, never parsed into one `Value` tree) and validated.
async fn read_request(req: &mut Request, ctx: &Ctx, tenant: &TenantId) -> ApiResult<TaskRequest> {
    let body = body::read(req, &TASK_BODY_LIMIT).await?;
    match TaskRequest::parse(&body, &ctx.data.config) {
        Ok(request) => Ok(request),
        Err(e) => {
            // A refused body still costs a write: bad requests are not a free way to hammer us.
            charge_work(ctx, tenant, Cost::Write).await?;
            Err(e)
        }
    }
}

/// Reserves the task's planned `bound` under the tenant's quota and creates its object; a
/// creation that failed gives the reservation back (a conflict's belongs to the other
/// request's task, which holds this id).
async fn create_reserved(ctx: &Ctx, new: NewTask, bound: u64) -> ApiResult<Created> {
    let (tenant, id, quota) = (new.tenant.clone(), new.id.clone(), ctx.data.config.max_storage_bytes_per_tenant);
    super::usage::reserve_task(&ctx.env, &tenant, &id, quota, bound).await?;
    let started = start(ctx, &tenant, new).await;
    if started.as_ref().is_err_and(|e| !matches!(e, ApiError::Conflict(_))) {
        super::usage::release_task(&ctx.env, &tenant, &id, quota).await;
    }
    started
}

/// Charges the task by the work it starts and checks its images. Nothing is created or queued
/// before both are done; the limiter is paid while the images are looked up (reads only), one
/// round trip off every task's latency.
async fn charge_and_prepare(ctx: &Ctx, tenant: &TenantId, request: &TaskRequest) -> ApiResult<(Vec<NewImage>, Vec<u64>)> {
    let charge = async { charge_work(ctx, tenant, Cost::work(request.images.len(), request.chain.len())).await.map_err(ApiError::from) };
    let images = Images::new(&ctx.env)?;
    let lookups = async {
        // Images a step refers to (a watermark): the tenant's, capped in size.
        images.aux_originals(tenant, &request.chain).await?;
        try_join_all(request.images.iter().map(|id| prepare(ctx, &images, tenant, id, &request.chain))).await
    };
    let ((), prepared) = futures_util::future::try_join(charge, lookups).await?;
    Ok(prepared.into_iter().unzip())
}

/// Runs the job the new task handed to this request, claimed ([`crate::task::inline`]), once
/// the answer is on its way.
fn run_after_answer(ctx: &Ctx, job: Job, claimed: Claimed, promise: crate::turn::Promise) {
    let (env, config, request_id) = (ctx.env.clone(), ctx.data.config.clone(), ctx.data.request_id.clone());
    // Without the turn the job would start in the same microtask checkpoint as the answer.
    crate::turn::after_answer(&ctx.data.background, async move {
        crate::consumer::run_inline(env, config, job, claimed, request_id).await;
        drop(promise);
    });
}

/// Creates the task object, or finds it again by its Idempotency-Key.
async fn start(ctx: &Ctx, tenant: &TenantId, new: NewTask) -> ApiResult<Created> {
    TaskClient::new(&ctx.env, tenant, &new.id)?.create(new).await.map_err(|e| match e {
        TaskError::Refused(Refusal::Conflict(_)) => {
            ApiError::Conflict("this Idempotency-Key was already used for a different request".into())
        }
        other => other.into(),
    })
}

/// Checks one image (the tenant's, and the chain fits in memory) and looks for a stored
/// result of the same bytes and chain to reuse; with the most bytes its output can take.
async fn prepare(ctx: &Ctx, images: &Images, tenant: &TenantId, id: &ImageId, chain: &Chain) -> ApiResult<(NewImage, u64)> {
    let record = images.get_record(tenant, id).await?;
    // Refuse what cannot fit before anything is queued or decoded.
    let plan = plan(&record.info(), record.bytes, chain, ctx.data.config.limits())?;
    let (peak_bytes, bound) = (plan.peak_bytes, stored::output_bound(&record.info(), chain, plan.output));
    let result_key = result_key(&record.sha256, chain);
    let cached = images.find_result(tenant, &result_key).await?;
    Ok((NewImage { image: ImageRef { id: record.id, name: record.name, format: record.format, result_key, peak_bytes }, cached }, bound))
}

/// Adds the `links` of the task object, signed for its tenant, on the host the client used.
fn with_links(mut task: Value, req: &Request, state: &AppState, tenant: &TenantId) -> ApiResult<Value> {
    let Some(id) = task["id"].as_str().map(str::to_string) else { return Ok(task) };
    let http = req.url()?.origin().ascii_serialization();
    let ws = http.replacen("http", "ws", 1);
    task["links"] = serde_json::json!({
        "download": signed_url(state, tenant, &http, &format!("/tasks/{id}/download")),
        "ws": signed_url(state, tenant, &ws, &format!("/tasks/{id}/ws")),
        "events": signed_url(state, tenant, &http, &format!("/tasks/{id}/events")),
    });
    Ok(task)
}

/// `GET /tasks`: the tenant's tasks, newest first, optionally of one status.
pub async fn list(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit(&req, &ctx, Cost::Read).await?;
    let query = ListQuery::parse(&query_pairs(&req)?, true)?;
    let mut page = TenantIndex::new(&ctx.env, &tenant)?.list_tasks(&query).await?;
    page.items = page.items.into_iter().map(|task| with_links(task, &req, &ctx.data, &tenant)).collect::<ApiResult<_>>()?;
    let mut body = page.into_json();
    body["links"] = super::streams::feed_links(&req, &ctx.data, &tenant)?;
    json_response(&body, 200)
}

pub async fn get(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit(&req, &ctx, Cost::Read).await?;
    let id = TaskId::parse(param(&ctx, "id")?)?;
    let task = TaskClient::new(&ctx.env, &tenant, &id)?.state().await?;
    json_response(&with_links(task, &req, &ctx.data, &tenant)?, 200)
}

pub async fn cancel(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit(&req, &ctx, Cost::Read).await?;
    let id = TaskId::parse(param(&ctx, "id")?)?;
    let task = TaskClient::new(&ctx.env, &tenant, &id)?.cancel().await.map_err(|e| match e {
        TaskError::Refused(refusal @ Refusal::Conflict(_)) => {
            ApiError::Conflict(format!("{refusal}; only a queued or running task can be cancelled"))
        }
        other => other.into(),
    })?;
    json_response(&with_links(task, &req, &ctx.data, &tenant)?, 202)
}
