//! CORS from `ALLOWED_ORIGINS`, and the security headers every answer carries.
//!
//! Only listed origins get CORS headers, echoed one at a time (never `*`); the API takes bearer
//! tokens, not cookies, so credentials are never allowed. A preflight from any other origin
//! gets a bare 204: the browser then refuses the real request itself.

use worker::{Headers, Request, Response};

const ALLOW_METHODS: &str = "GET, POST, DELETE, OPTIONS";
const ALLOW_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, X-Request-Id, Last-Event-ID, If-None-Match, Range";
/// Response headers a cross-origin script may read.
const EXPOSE_HEADERS: &str = "X-Request-Id, Retry-After, ETag, Content-Disposition, Content-Range, Content-Length, Stellar-Cache";
/// Browsers cache a preflight this long (seconds).
const MAX_AGE: &str = "600";

/// The request's `Origin` when it is one of `allowed`.
pub fn allowed_origin(req: &Request, allowed: &[String]) -> Option<String> {
    let origin = req.headers().get("origin").ok().flatten()?;
    allowed.iter().any(|a| a == &origin).then_some(origin)
}

/// Whether this is a CORS preflight (answered before authentication: browsers send no token).
pub fn is_preflight(req: &Request) -> bool {
    req.method() == worker::Method::Options
}

/// The answer to a preflight: 204, with CORS headers only for an allowed origin.
pub fn preflight(origin: Option<&str>) -> worker::Result<Response> {
    let headers = Headers::new();
    if let Some(origin) = origin {
        headers.set("access-control-allow-origin", origin)?;
        headers.set("access-control-allow-methods", ALLOW_METHODS)?;
        headers.set("access-control-allow-headers", ALLOW_HEADERS)?;
        headers.set("access-control-max-age", MAX_AGE)?;
    }
    headers.set("vary", "Origin")?;
    Ok(Response::empty()?.with_status(204).with_headers(headers))
}

/// Adds the CORS headers for an allowed origin and the security headers to an answer. A 101
/// from a Durable Object has immutable headers; it is left as it is.
pub fn decorate(resp: &mut Response, origin: Option<&str>) {
    let headers = resp.headers_mut();
    let set = |k: &str, v: &str| headers.set(k, v).is_ok();
    if !set("x-content-type-options", "nosniff") {
        return;
    }
    set("referrer-policy", "no-referrer");
    set("x-frame-options", "DENY");
    // API answers are data, never documents: nothing in them may run or be framed. The studio
    // page (`assets::page`) brings its own policy, which is kept.
    if !headers.has("content-security-policy").unwrap_or(false) {
        set("content-security-policy", "default-src 'none'; frame-ancestors 'none'");
    }
    // Appended: a rendition already varies by Accept.
    let _ = headers.append("vary", "Origin");
    if let Some(origin) = origin {
        set("access-control-allow-origin", origin);
        set("access-control-expose-headers", EXPOSE_HEADERS);
    }
}
