//! Making a rendition that the edge cache did not have: from the derived store (R2, keyed like
//! a task's result, so tasks and renders share them), or by running the chain in this request.
//! The store is looked up first (a hit reads nothing else); what a render writes afterwards is
//! `render::after`'s.
//!
//! The planner runs before anything is read, against the same `MEMORY_BUDGET_BYTES` as a task:
//! renders and queue jobs take turns per isolate (`crate::turn`), so each has the budget to
//! itself. (Half the budget was tried first: it refused the 12 MP progressive JPEG of the
//! render benchmark, 79 MiB planned, which a task runs, for no memory reason.)

use super::held;
use crate::clock::now_millis;
use crate::config::Config;
use crate::keys;
use crate::memory;
use crate::ratelimit::Cost;
use crate::storage::{ImageRecord, HEIGHT_META, WIDTH_META};
use crate::turn;
use functions::plan::{plan, Limits};
use functions::session::run_chain;
use functions::{Chain, ImageError};
use std::collections::HashMap;
use thiserror::Error;
use worker::{Bucket, Object};

/// A rendition's bytes and what the answer says about them.
#[derive(Debug, Clone)]
pub struct Rendition {
    /// In JS memory (see [`super::held`]).
    pub bytes: js_sys::Uint8Array,
    pub content_type: String,
    /// Pixel size, stored with the result so that a task reusing it reports its output.
    pub dims: (u32, u32),
    /// Rendered by this request (a miss) rather than read from the store.
    pub rendered: bool,
}

/// Why a rendition could not be made; cloned to every coalesced request.
#[derive(Debug, Clone, Error)]
pub enum RenderFailure {
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The tenant's rate limit cannot pay for a render (seconds until it can).
    #[error("rate limited for {0} s")]
    RateLimited(u64),
    #[error("{0}")]
    Internal(String),
}

impl From<worker::Error> for RenderFailure {
    fn from(e: worker::Error) -> Self {
        RenderFailure::Internal(e.to_string())
    }
}

pub type Produced = Result<Rendition, RenderFailure>;

/// What producing one rendition needs.
pub struct Job<'a> {
    pub bucket: &'a Bucket,
    pub config: &'a Config,
    pub tenant: &'a crate::ids::TenantId,
    pub record: &'a ImageRecord,
    pub chain: &'a Chain,
    pub result_key: &'a str,
    /// Images the chain reads besides the original (a watermark): id → R2 key.
    pub aux: Vec<(String, String)>,
}

/// The limits a render runs under: a task's.
pub fn limits(config: &Config) -> Limits {
    config.limits()
}

/// Refuses, before anything is read, a rendition that cannot be made in a request.
pub fn check(job: &Job<'_>) -> Result<(), RenderFailure> {
    let refused = |why: String| {
        // Not "use a task": a task has the same budget and would be refused the same way.
        let hint = "; ask for a smaller rendition (w, h) or a smaller original";
        RenderFailure::Image(ImageError::TooLarge(format!("{why}{hint}")))
    };
    let peak = plan(&job.record.info(), job.record.bytes, job.chain, limits(job.config)).map_err(|e| match e {
        ImageError::TooLarge(why) => refused(why),
        other => RenderFailure::Image(other),
    })?;
    memory::check(peak.peak_bytes).map_err(|e| refused(e.to_string()))
}

/// The stored rendition, if the store has it.
pub async fn stored(job: &Job<'_>) -> Result<Option<Rendition>, RenderFailure> {
    let Some(obj) = job.bucket.get(keys::result(job.tenant, job.result_key)).execute().await? else { return Ok(None) };
    let meta = obj.custom_metadata().unwrap_or_default();
    let dim = |name: &str| meta.get(name).and_then(|v| v.parse::<u32>().ok());
    // Written by a finished step or render (sized, typed); anything else is rendered afresh.
    let (Some(width), Some(height), Some(content_type)) = (dim(WIDTH_META), dim(HEIGHT_META), obj.http_metadata().content_type) else {
        return Ok(None);
    };
    Ok(Some(Rendition { bytes: held::read(&obj).await?, content_type, dims: (width, height), rendered: false }))
}

/// What a miss costs on top of the read: its chain's work, as a one-image task with the same
/// chain pays ([`Cost::work`]: one token per step, at least a write's), so a long chain is not
/// cheaper by render URL than by task.
pub fn miss_cost(chain: &Chain) -> Cost {
    Cost::work(1, chain.len())
}

/// Where a render's time went (its `render` log line).
#[derive(Debug, Clone, Copy, Default)]
pub struct Spent {
    pub turn_wait_ms: u64,
    pub read_ms: u64,
    pub work_ms: u64,
}

/// Renders in this request once `pay` (the rate limiter's charge, run while the original is
/// read) has succeeded. The caller planned it first ([`check`]) and writes it afterwards
/// (`render::after`).
pub async fn render(
    job: &Job<'_>,
    pay: impl std::future::Future<Output = Result<(), RenderFailure>>,
) -> Result<(Rendition, Spent), RenderFailure> {
    let started = now_millis();
    // The peak was planned for one job per isolate: wait for any other to finish first.
    let turn = turn::take().await;
    let turned = now_millis();
    let key = keys::original(job.tenant, &job.record.id);
    let (paid, source) = futures_util::future::join(pay, read(job.bucket, &key)).await;
    paid?;
    let source = source?.ok_or(ImageError::Invalid("the original is gone".into()))?;
    let mut aux = HashMap::new();
    for (id, key) in &job.aux {
        if let Some(bytes) = read(job.bucket, key).await? {
            aux.insert(id.clone(), bytes);
        }
    }
    let read_done = now_millis();
    let out = run_chain(job.chain, source, limits(job.config), &aux)?;
    drop((aux, turn));
    let spent = Spent { turn_wait_ms: turned - started, read_ms: read_done - turned, work_ms: now_millis() - read_done };
    let dims = (out.width, out.height);
    Ok((Rendition { bytes: held::from_wasm(out.bytes), content_type: out.content_type.to_string(), dims, rendered: true }, spent))
}

async fn read(bucket: &Bucket, key: &str) -> Result<Option<Vec<u8>>, RenderFailure> {
    let Some(obj) = bucket.get(key.to_string()).execute().await? else { return Ok(None) };
    Ok(Some(body_of(obj, key).await?))
}

async fn body_of(obj: Object, what: &str) -> Result<Vec<u8>, RenderFailure> {
    let body = obj.body().ok_or_else(|| RenderFailure::Internal(format!("{what} has no body")))?;
    Ok(body.bytes().await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use functions::chain::MAX_STEPS;
    use serde_json::json;

    fn chain(steps: usize) -> Chain {
        let mut list: Vec<_> = (1..steps).map(|_| json!({"op": "grayscale"})).collect();
        list.push(json!({"op": "encode", "format": "png"}));
        Chain::parse(&json!(list)).expect("a valid chain")
    }

    #[test]
    fn a_render_miss_costs_its_steps_like_a_one_image_task() {
        assert_eq!(miss_cost(&chain(2)).tokens(), Cost::Write.tokens(), "a short chain: a write");
        assert_eq!(miss_cost(&chain(MAX_STEPS)).tokens(), Cost::work(1, MAX_STEPS).tokens());
        assert!(miss_cost(&chain(MAX_STEPS)).tokens() > Cost::Write.tokens(), "a long chain costs more than a short one");
    }
}
