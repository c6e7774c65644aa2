//! The public HTTP API: routing, authentication, error rendering and the per-request log line.
//!
//! Every handler returns `ApiResult<Response>`; [`finish`] renders errors as the contract's JSON
//! and logs internal causes, and [`handle`] stamps `x-request-id` on every answer.

mod admin;
mod assets;
mod bench;
mod body;
mod cors;
mod download;
mod error;
mod form_parser;
mod gate;
mod health;
mod images;
mod render;
mod render_links;
mod routes;
mod streams;
mod task_body;
mod task_request;
mod tasks;
mod upload_body;
mod upload_spool;
mod upload_stream;
mod usage;

use crate::clock::now_millis;
use crate::config::Config;
use crate::log;
use crate::metrics::{route_label, Metrics, RequestPoint};
use error::{ApiError, ApiResult};
use std::cell::RefCell;
use std::rc::Rc;
use worker::{Context, Env, Request, Response, RouteContext};

/// Per-request data handed to every handler.
pub struct AppState {
    pub config: Config,
    pub request_id: String,
    /// The tenant once the gate identified one, for the request's log line and data point
    /// (shared: the router owns the state, [`handle`] reads this after it ran).
    pub tenant: Rc<RefCell<Option<String>>>,
    /// The invocation's context: work that may finish after the answer (`wait_until`).
    pub background: Rc<Context>,
}

pub type Ctx = RouteContext<AppState>;

/// Entry point for every HTTP request.
pub async fn handle(req: Request, env: Env, background: Context) -> worker::Result<Response> {
    let started = now_millis();
    let request_id = request_id(&req);
    let (method, path) = (req.method().to_string(), req.path());
    let config = Config::from_env(&env);
    let origin = config.as_ref().ok().and_then(|c| cors::allowed_origin(&req, &c.allowed_origins));
    let (tenant, metrics_env, background) = (Rc::new(RefCell::new(None)), env.clone(), Rc::new(background));
    let mut resp = match config {
        Ok(_) if cors::is_preflight(&req) => cors::preflight(origin.as_deref())?,
        Ok(config) => {
            let state = AppState { config, request_id: request_id.clone(), tenant: tenant.clone(), background: background.clone() };
            route(req, env, state).await?
        }
        Err(problems) if path == "/health" => health::degraded(&problems)?,
        Err(problems) => {
            log::error("config").request_id(&request_id).field("problems", &problems).emit();
            ApiError::Unavailable(format!("the server is misconfigured: {}", problems.join("; "))).to_response(&request_id)?
        }
    };
    // A 101 from a Durable Object has immutable headers; the id is then only in the log.
    let _ = resp.headers_mut().set("x-request-id", &request_id);
    cors::decorate(&mut resp, origin.as_deref());
    let (status, duration_ms, tenant) = (resp.status_code(), now_millis() - started, tenant.borrow().clone().unwrap_or_default());
    // The line and the data point are written after the answer leaves: building and writing
    // them took ~0.9 ms of every request under `wrangler dev` (a CPU profile of render hits),
    // which the client waited for although they tell it nothing.
    crate::turn::after_answer(&background, async move {
        // The path only, never the query: a signed link's `sig=` lives there.
        let line = log::info("request").request_id(&request_id).field("method", &method).field("path", &path);
        let line = if tenant.is_empty() { line } else { line.tenant(&tenant) };
        line.field("status", status).field("duration_ms", duration_ms).emit();
        Metrics::open(&metrics_env).request(&RequestPoint {
            method: &method,
            route: route_label(&path),
            status,
            duration_ms,
            tenant: &tenant,
        });
    });
    Ok(resp)
}

async fn route(req: Request, env: Env, state: AppState) -> worker::Result<Response> {
    let (request_id, path) = (state.request_id.clone(), req.path());
    let resp = routes::router(state, &path).run(req, env).await?;
    // The router's own "no route" answers are plain text; clients expect the contract's JSON.
    let is_json = resp.headers().get("content-type")?.is_some_and(|c| c.starts_with("application/json"));
    if matches!(resp.status_code(), 404 | 405) && !is_json {
        let allow = routes::allowed(&path);
        let error = if allow.is_empty() { ApiError::NotFound } else { ApiError::MethodNotAllowed(allow.join(", ")) };
        return error.to_response(&request_id);
    }
    Ok(resp)
}

/// Renders a handler's result; internal causes go to the log, never to the client.
fn finish(request_id: &str, result: ApiResult<Response>) -> worker::Result<Response> {
    match result {
        Ok(resp) => Ok(resp),
        Err(e) => {
            if let ApiError::Internal(cause) = &e {
                log::error("internal_error").request_id(request_id).field("cause", cause).emit();
            }
            e.to_response(request_id)
        }
    }
}

/// Uses a caller's well-formed `x-request-id` (for tracing across systems), else a fresh one.
fn request_id(req: &Request) -> String {
    let theirs = req.headers().get("x-request-id").ok().flatten();
    match theirs {
        Some(id) if (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => id,
        _ => {
            let mut bytes = [0u8; 12];
            // Randomness failing is not worth failing the request over: fall back to the clock.
            match getrandom::getrandom(&mut bytes) {
                Ok(()) => hex::encode(bytes),
                Err(_) => format!("t{}", now_millis()),
            }
        }
    }
}

/// JSON answer with a status.
pub fn json_response(value: &serde_json::Value, status: u16) -> ApiResult<Response> {
    Ok(Response::from_json(value)?.with_status(status))
}

/// The query string's decoded pairs.
pub fn query_pairs(req: &Request) -> ApiResult<Vec<(String, String)>> {
    Ok(req.url()?.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
}

/// A path parameter (always present for the routes that declare it).
pub fn param<'a>(ctx: &'a Ctx, name: &str) -> ApiResult<&'a str> {
    ctx.param(name).map(String::as_str).ok_or(ApiError::NotFound)
}
