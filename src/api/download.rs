//! `GET /tasks/{id}/download`: the finished task's output (one image) or the zip of all of
//! them (several), with validators and byte ranges.

use super::error::{ApiError, ApiResult};
use super::gate::admit_link;
use super::{param, Ctx};
use crate::bindings::IMAGES_BUCKET;
use crate::ids::TaskId;
use crate::range::{self, ByteRange};
use crate::ratelimit::Cost;
use crate::task::client::TaskClient;
use crate::task::protocol::{Refusal, TaskError};
use worker::{Bucket, Headers, Range, Request, Response};

pub async fn get(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit_link(&req, &ctx, Cost::Read).await?;
    let id = TaskId::parse(param(&ctx, "id")?)?;
    let info = TaskClient::new(&ctx.env, &tenant, &id)?.download().await.map_err(|e| match e {
        TaskError::Refused(refusal @ Refusal::Conflict(_)) => {
            ApiError::TaskNotFinished(format!("{refusal}; its download exists once it has succeeded"))
        }
        other => other.into(),
    })?;
    serve(&req, &ctx.env.bucket(IMAGES_BUCKET)?, &info.key, &info.filename).await
}

/// Streams an R2 object as an attachment, honouring `If-None-Match` (304) and one `Range` (206).
async fn serve(req: &Request, bucket: &Bucket, key: &str, name: &str) -> ApiResult<Response> {
    // Missing only when the image it came from was deleted (with everything derived from it).
    let head = bucket.head(key).await?.ok_or(ApiError::NotFound)?;
    let (etag, total) = (head.http_etag(), head.size());
    let headers = Headers::new();
    headers.set("etag", &etag)?;
    headers.set("accept-ranges", "bytes")?;
    headers.set("content-disposition", &format!("attachment; filename=\"{name}\""))?;
    let if_none_match = req.headers().get("if-none-match")?;
    if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
        return Ok(Response::empty()?.with_status(304).with_headers(headers));
    }
    let mut get = bucket.get(key);
    let status = match req.headers().get("range")?.and_then(|h| range::parse(&h, total)) {
        None => 200,
        Some(Err(range::Unsatisfiable)) => {
            headers.set("content-range", &format!("bytes */{total}"))?;
            return Ok(Response::empty()?.with_status(416).with_headers(headers));
        }
        Some(Ok(ByteRange { start, end })) => {
            get = get.range(Range::OffsetWithLength { offset: start, length: end - start + 1 });
            headers.set("content-range", &format!("bytes {start}-{end}/{total}"))?;
            206
        }
    };
    let obj = get.execute().await?.ok_or_else(|| ApiError::Internal(format!("output {key} vanished")))?;
    let content_type = obj.http_metadata().content_type.unwrap_or_else(|| "application/octet-stream".into());
    headers.set("content-type", &content_type)?;
    let body = obj.body().ok_or_else(|| ApiError::Internal("output has no body".into()))?;
    Ok(Response::from_body(body.response_body()?)?.with_status(status).with_headers(headers))
}
