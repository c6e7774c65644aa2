//! Static files from `public/` (the ASSETS binding): the studio page (`/` is `index.html`, its
//! modules and stylesheet under `/studio/`), the OpenAPI document and the browser client
//! `studio-client.js`. They go through the Worker (`run_worker_first`) so they get the same
//! request id, CORS and security headers as every other answer; the page gets its own content
//! security policy (`cors::decorate` keeps it).

use super::error::{ApiError, ApiResult};
use super::Ctx;
use crate::bindings::ASSETS;
use worker::{Headers, Request, Response};

/// `GET /`: the studio page, with the policy a document needs (the API's forbids everything).
pub async fn page(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let policy = page_policy(&req.url()?);
    let mut resp = get(req, ctx).await?;
    resp.headers_mut().set("content-security-policy", &policy)?;
    Ok(resp)
}

/// Scripts, styles and images from this origin only (plus `blob:`/`data:` images: thumbnails
/// and results), no inline code, network access to this origin over http(s) and ws(s).
pub fn page_policy(url: &worker::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    let host = url.port().map_or_else(|| host.to_string(), |port| format!("{host}:{port}"));
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
         connect-src 'self' ws://{host} wss://{host}; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

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

#[cfg(test)]
mod tests {
    use super::page_policy;

    #[test]
    fn the_page_policy_allows_this_origin_only_and_no_inline_code() {
        let policy = page_policy(&"http://127.0.0.1:8787/".parse().expect("url"));
        assert!(policy.starts_with("default-src 'self';"), "{policy}");
        assert!(policy.contains("connect-src 'self' ws://127.0.0.1:8787 wss://127.0.0.1:8787;"), "{policy}");
        assert!(policy.contains("img-src 'self' blob: data:;"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
        let https = page_policy(&"https://studio.example.com/".parse().expect("url"));
        assert!(https.contains("wss://studio.example.com;"), "{https}");
    }
}
