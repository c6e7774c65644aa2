//! Static files from `public/` (the ASSETS binding): the OpenAPI document and the browser
//! client `studio-client.js`. They go through the Worker (`run_worker_first`) so they get the same
//! request id, CORS and security headers as every other answer.

use super::Ctx;
use crate::bindings::ASSETS;
use crate::error::{ApiError, ApiResult};
use worker::{Headers, Request, Response};

pub async fn get(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let resp = ctx.env.assets(ASSETS)?.fetch_request(req).await?;
    match resp.status_code() {
        status @ (200 | 304) => {
            // A fetched response's headers are immutable: copy them so ours can be added.
            let headers = Headers::new();
            for (name, value) in resp.headers().entries() {
                headers.set(&name, &value)?;
            }
            let (_, body) = resp.into_parts();
            Ok(Response::from_body(body)?.with_status(status).with_headers(headers))
        }
        404 => Err(ApiError::NotFound),
        s => Err(ApiError::Internal(format!("assets answered {s}"))),
    }
}
