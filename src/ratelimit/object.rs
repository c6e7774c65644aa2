//! `RateLimiter`, one Durable Object per tenant holding its token bucket, and the Worker's
//! call into it.
//!
//! The bucket lives in memory: an object evicted after being idle comes back with a full
//! bucket, which an idle tenant would have refilled to anyway.

use super::{Bucket, Cost};
use crate::bindings::RATE_LIMITER;
use crate::clock::now_millis;
use crate::ids::TenantId;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use thiserror::Error;
use worker::*;

/// Why a request is not let through; the HTTP edge answers 429 (with `Retry-After`) or 503.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LimitError {
    /// The tenant's bucket is short; it holds enough again after this many seconds.
    #[error("too many requests for this tenant; retry in {0} s")]
    Limited(u64),
    /// The limiter could not be asked and the request is one that fails closed.
    #[error("the rate limiter is unavailable; try again shortly")]
    Unavailable,
}

#[derive(Serialize, Deserialize)]
struct Take {
    tokens: u32,
    per_minute: u32,
}

#[derive(Serialize, Deserialize)]
struct Verdict {
    /// `None`: allowed; else the seconds to wait.
    retry_after_s: Option<u64>,
}

#[durable_object]
pub struct RateLimiter {
    bucket: RefCell<Option<Bucket>>,
}

impl DurableObject for RateLimiter {
    fn new(_state: State, _env: Env) -> Self {
        RateLimiter { bucket: RefCell::new(None) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let take: Take = crate::objects::read_call(&mut req).await?;
        let now = now_millis();
        let mut slot = self.bucket.borrow_mut();
        let bucket = slot.get_or_insert_with(|| Bucket::full(take.per_minute, now));
        let retry_after_s = bucket.take(take.tokens, take.per_minute, now).err();
        Response::from_json(&Verdict { retry_after_s })
    }
}

/// Charges `cost` to `tenant`; `Limited` when the bucket is short. If the limiter cannot be
/// reached the request passes (and the failure is logged): an outage of the limiter must not
/// become an outage of the API.
pub async fn charge(env: &Env, tenant: &TenantId, cost: Cost, per_minute: u32) -> Result<(), LimitError> {
    match ask(env, tenant, cost, per_minute).await {
        Ok(Verdict { retry_after_s: Some(s) }) => Err(LimitError::Limited(s)),
        Ok(Verdict { retry_after_s: None }) => Ok(()),
        Err(e) => {
            crate::log::error("rate_limiter_unreachable").tenant(tenant.as_str()).field("error", e.to_string()).emit();
            when_unreachable(cost)
        }
    }
}

/// What to do when the limiter cannot be asked. Writes fail closed: an outage of the limiter
/// must not open the door to unmetered uploads and tasks (the expensive requests a limit is
/// for). Reads stay open: they are cheap, and refusing them would turn a limiter outage into an
/// outage of every status poll and download.
pub fn when_unreachable(cost: Cost) -> Result<(), LimitError> {
    match cost {
        Cost::Read => Ok(()),
        Cost::Write | Cost::Work { .. } => Err(LimitError::Unavailable),
    }
}

/// The object `GET /health` calls: no tenant can have this name (tenants have no `:`), so the
/// probe never touches a real bucket.
const HEALTH_OBJECT: &str = ":health";

/// A round trip to a `RateLimiter` (the cheapest object: no storage), taking nothing: proves
/// the Durable Object namespace answers.
pub async fn probe(env: &Env) -> Result<()> {
    call(env, HEALTH_OBJECT, 0, 1).await.map(|_| ())
}

/// Charges `tokens` that are never refused (see [`super::deferred`]); a failure is logged.
pub async fn charge_tokens(env: &Env, tenant: &TenantId, tokens: u32, per_minute: u32) -> Result<()> {
    let charged = call(env, tenant.as_str(), tokens, per_minute).await.map(|_| ());
    if let Err(e) = &charged {
        crate::log::error("rate_limiter_unreachable").tenant(tenant.as_str()).field("error", e.to_string()).emit();
    }
    charged
}

async fn ask(env: &Env, tenant: &TenantId, cost: Cost, per_minute: u32) -> Result<Verdict> {
    call(env, tenant.as_str(), cost.tokens(), per_minute).await
}

async fn call(env: &Env, name: &str, tokens: u32, per_minute: u32) -> Result<Verdict> {
    let stub = env.durable_object(RATE_LIMITER)?.get_by_name(name)?;
    let body = serde_json::to_string(&Take { tokens, per_minute })?;
    let answer = crate::objects::post_json(&stub, "https://limiter/take", &[], body).await?;
    Ok(serde_json::from_str(&answer.body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_limiter_refuses_writes_and_lets_reads_through() {
        assert_eq!(when_unreachable(Cost::Write), Err(LimitError::Unavailable));
        assert_eq!(when_unreachable(Cost::Work { steps: 1 }), Err(LimitError::Unavailable));
        assert!(when_unreachable(Cost::Read).is_ok());
    }
}
