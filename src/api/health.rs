//! `GET /health`: is the Worker configured, and do its bindings answer? `?deep=0` is the cheap
//! form for load balancers (configuration only, no call to any binding).
//!
//! The deep form makes one real call per dependency — a read of an R2 sentinel, a round trip to
//! a Durable Object, the queue producer's binding — so that 200 means "a request would work",
//! not merely "the isolate is up". A failing check names itself in `failing` (503 `degraded`);
//! its cause goes to the log only, since `/health` is public.

use super::error::ApiResult;
use super::{json_response, query_pairs, Ctx};
use crate::bindings::{IMAGES_BUCKET, STEPS_QUEUE};
use crate::log;
use futures_util::future::join;
use serde_json::{json, Map, Value};
use worker::{Bucket, Env, Request, Response};

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit the build came from: scripts/build.sh sets `STUDIO_GIT_COMMIT`; a build made
/// some other way says so rather than guessing.
const COMMIT: &str = match option_env!("STUDIO_GIT_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

/// Where the R2 check reads (and, the first time, writes) its sentinel.
const SENTINEL_KEY: &str = "health/sentinel";
const SENTINEL: &[u8] = b"stellar-studio health sentinel\n";

pub async fn get(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let deep = !query_pairs(&req)?.iter().any(|(k, v)| k == "deep" && matches!(v.as_str(), "0" | "false"));
    let mut checks = vec![("config", Ok(()))];
    if deep {
        let (r2, objects) = join(r2(&ctx.env), crate::ratelimit::object::probe(&ctx.env)).await;
        let queue = ctx.env.queue(STEPS_QUEUE).map(|_| ());
        checks.extend([("r2", r2), ("durable_objects", objects.map_err(|e| e.to_string())), ("queue", queue.map_err(|e| e.to_string()))]);
    }
    for (name, result) in &checks {
        if let Err(cause) = result {
            log::error("health_check_failed").request_id(&ctx.data.request_id).field("check", name).field("error", cause).emit();
        }
    }
    let named: Vec<(&str, bool)> = checks.iter().map(|(name, r)| (*name, r.is_ok())).collect();
    let (body, status) = render(&named, deep, None);
    json_response(&body, status)
}

/// A real read of the sentinel; written once when absent (a new bucket), then read back.
async fn r2(env: &Env) -> Result<(), String> {
    let bucket = env.bucket(IMAGES_BUCKET).map_err(|e| e.to_string())?;
    let bytes = match read_sentinel(&bucket).await? {
        Some(bytes) => bytes,
        None => {
            bucket.put(SENTINEL_KEY, SENTINEL.to_vec()).execute().await.map_err(|e| e.to_string())?;
            read_sentinel(&bucket).await?.ok_or("the sentinel was written but reads as missing")?
        }
    };
    if bytes != SENTINEL {
        return Err(format!("the sentinel reads back as {} other bytes", bytes.len()));
    }
    Ok(())
}

async fn read_sentinel(bucket: &Bucket) -> Result<Option<Vec<u8>>, String> {
    let object = bucket.get(SENTINEL_KEY).execute().await.map_err(|e| e.to_string())?;
    let Some(object) = object else { return Ok(None) };
    match object.body() {
        Some(body) => body.bytes().await.map(Some).map_err(|e| e.to_string()),
        None => Ok(None),
    }
}

/// The body and status for these check outcomes (`problems`: the invalid configuration's).
fn render(checks: &[(&str, bool)], deep: bool, problems: Option<&[String]>) -> (Value, u16) {
    let mut map = Map::new();
    for (name, ok) in checks {
        map.insert((*name).into(), (if *ok { "ok" } else { "failed" }).into());
    }
    map.insert("version".into(), json!({"crate": VERSION, "commit": COMMIT}));
    let failing: Vec<&str> = checks.iter().filter(|(_, ok)| !ok).map(|(name, _)| *name).collect();
    let healthy = failing.is_empty();
    let mut body = json!({
        "status": if healthy { "ok" } else { "degraded" },
        "checks": map,
        "failing": failing,
        "deep": deep,
        "version": VERSION,
    });
    if let Some(problems) = problems {
        body["problems"] = json!(problems);
    }
    (body, if healthy { 200 } else { 503 })
}

/// The answer when the configuration does not validate (no handler can run).
pub fn degraded(problems: &[String]) -> worker::Result<Response> {
    let (body, status) = render(&[("config", false)], false, Some(problems));
    Ok(Response::from_json(&body)?.with_status(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_check_makes_the_answer_503_degraded_and_is_named() {
        let (body, status) = render(&[("config", true), ("r2", false), ("durable_objects", true), ("queue", true)], true, None);
        assert_eq!((status, body["status"].as_str()), (503, Some("degraded")), "{body}");
        assert_eq!(body["failing"], json!(["r2"]));
        assert_eq!((body["checks"]["r2"].as_str(), body["checks"]["queue"].as_str()), (Some("failed"), Some("ok")));
    }

    #[test]
    fn every_answer_carries_the_crate_version_and_the_commit() {
        let (body, status) = render(&[("config", true)], false, None);
        assert_eq!((status, body["status"].as_str(), body["deep"].as_bool()), (200, Some("ok"), Some(false)));
        assert_eq!(body["checks"]["version"]["crate"], VERSION);
        assert!(body["checks"]["version"]["commit"].as_str().is_some_and(|c| !c.is_empty()), "{body}");
        assert!(body.get("problems").is_none());
    }
}
