//! Development-only benchmark routes, served only when the var `BENCH_ROUTES` is `"1"` (never
//! in `wrangler.toml`; `bench/run.mjs` sets it with `--var`). They run the imaging core inside
//! workerd on a request body so that `bench/run.mjs` can time it from outside: the round trip
//! of `/__bench/chain` minus that of `/__bench/echo` (same body, no work) is the work's time.

use super::error::{ApiError, ApiResult};
use super::gate::admit;
use super::{json_response, Ctx};
use crate::ratelimit::Cost;
use crate::tenant::client::TenantIndex;
use functions::session::run_chain;
use functions::Chain;
use serde_json::json;
use std::collections::HashMap;
use worker::{Request, Response};

fn enabled(ctx: &Ctx) -> ApiResult<()> {
    match ctx.env.var("BENCH_ROUTES").map(|v| v.to_string()) {
        Ok(v) if v == "1" => Ok(()),
        _ => Err(ApiError::NotFound),
    }
}

/// Reads the body and answers its length: the baseline (transfer, routing, auth).
pub async fn echo(mut req: Request, ctx: Ctx) -> ApiResult<Response> {
    enabled(&ctx)?;
    admit(&req, &ctx, Cost::Read).await?;
    let body = req.bytes().await?;
    json_response(&json!({"bytes": body.len()}), 200)
}

/// Runs the chain given as `?chain=<JSON steps>` on the body, exactly as the consumer does (one
/// in-memory session, no checkpoint), and answers the result's size and the
/// wasm memory high-water mark.
pub async fn chain(mut req: Request, ctx: Ctx) -> ApiResult<Response> {
    enabled(&ctx)?;
    admit(&req, &ctx, Cost::Read).await?;
    let query = req.url()?.query_pairs().find(|(k, _)| k == "chain").map(|(_, v)| v.into_owned());
    let steps: serde_json::Value = serde_json::from_str(&query.unwrap_or_default())
        .map_err(|e| ApiError::InvalidRequest(format!("chain: must be a JSON array of steps: {e}")))?;
    let chain = Chain::parse(&steps).map_err(|e| ApiError::InvalidChain(e.to_string()))?;
    let body = req.bytes().await?;
    let out = run_chain(&chain, body, ctx.data.config.limits(), &HashMap::new())?;
    json_response(
        &json!({"width": out.width, "height": out.height, "bytes": out.bytes.len(), "content_type": out.content_type,
                "memory_bytes": crate::memory::linear_memory_bytes()}),
        200,
    )
}

/// The isolate's wasm memory now: linear memory (only grows: its high-water mark) and the
/// allocator's live bytes and their peak (bench/load.mjs reads it after warm-up and after the
/// run: our heap must come back to its level, whatever the runtime's RSS does), and how many
/// JS values the glue holds for Rust (`JsValue`s alive: a leaked one keeps its JS object, a
/// request or a buffer, alive outside wasm memory, where the heap counts cannot see it).
pub async fn memory(req: Request, ctx: Ctx) -> ApiResult<Response> {
    enabled(&ctx)?;
    admit(&req, &ctx, Cost::Read).await?;
    let heap = crate::memory::heap();
    json_response(
        &json!({"linear_memory_bytes": crate::memory::linear_memory_bytes(), "live_bytes": heap.live_bytes,
                "peak_live_bytes": heap.peak_live_bytes, "allocated_bytes_total": heap.allocated_bytes_total,
                "instance_started_ms": heap.instance_started_ms, "js_values_live": wasm_bindgen::externref_heap_live_count()}),
        200,
    )
}

/// Adds `?count=N` (≤ 10,000 per call) synthetic images to the caller's index, so the listing
/// benchmark can compare a small and a large tenant without uploading thousands of files.
pub async fn seed(req: Request, ctx: Ctx) -> ApiResult<Response> {
    enabled(&ctx)?;
    let tenant = admit(&req, &ctx, Cost::Read).await?;
    let count = req.url()?.query_pairs().find(|(k, _)| k == "count").and_then(|(_, v)| v.parse::<u32>().ok()).filter(|c| *c <= 10_000);
    let count = count.ok_or_else(|| ApiError::InvalidRequest("count: must be an integer from 0 to 10000".into()))?;
    TenantIndex::new(&ctx.env, &tenant)?.seed(count).await?;
    json_response(&json!({"seeded": count}), 200)
}
