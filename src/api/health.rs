//! `GET /health`: is the Worker configured, and are its bindings reachable?

use super::{json_response, Ctx};
use crate::bindings::{IMAGES_BUCKET, STEPS_QUEUE, TASKS};
use crate::error::ApiResult;
use serde_json::json;
use worker::{Request, Response};

const VERSION: &str = env!("CARGO_PKG_VERSION");

pub async fn get(_req: Request, ctx: Ctx) -> ApiResult<Response> {
    let env = &ctx.env;
    // A `head` of a key that need not exist proves the bucket answers.
    let r2 = match env.bucket(IMAGES_BUCKET) {
        Ok(b) => b.head("health/probe").await.is_ok(),
        Err(_) => false,
    };
    let queue = env.queue(STEPS_QUEUE).is_ok();
    let objects = env.durable_object(TASKS).is_ok();
    let check = |ok: bool| if ok { "ok" } else { "failed" };
    let healthy = r2 && queue && objects;
    let body = json!({
        "status": if healthy { "ok" } else { "degraded" },
        "checks": {"config": "ok", "r2": check(r2), "queue": check(queue), "durable_objects": check(objects)},
        "version": VERSION,
    });
    json_response(&body, if healthy { 200 } else { 503 })
}

/// The answer when the configuration does not validate (no handler can run).
pub fn degraded(problems: &[String]) -> worker::Result<Response> {
    let body = json!({
        "status": "degraded",
        "checks": {"config": "failed"},
        "problems": problems,
        "version": VERSION,
    });
    Ok(Response::from_json(&body)?.with_status(503))
}
