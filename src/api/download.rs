//! `GET /tasks/{id}/download`: the finished task's output, with validators and byte ranges.

use super::{authenticate, param, Ctx};
use crate::bindings::IMAGES_BUCKET;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ImageId, TaskId, TenantId};
use crate::keys;
use crate::range::{self, ByteRange};
use crate::storage::Images;
use crate::task::client::TaskClient;
use serde_json::Value;
use worker::{Bucket, Headers, Range, Request, Response};

pub async fn get(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = authenticate(&req, &ctx.data)?;
    let id = TaskId::parse(param(&ctx, "id")?)?;
    let task = TaskClient::new(&ctx.env, &id)?.state(&tenant).await?;
    if task["status"] != "succeeded" {
        return Err(ApiError::TaskNotFinished(format!("the task is {}; its output exists once it has succeeded", task["status"])));
    }
    let last_step = task["steps"].as_array().map_or(0, |s| s.len().saturating_sub(1));
    let key = keys::step_output(&id, 0, last_step);
    let name = download_name(&ctx, &tenant, &task, &id).await?;
    serve(&req, &ctx.env.bucket(IMAGES_BUCKET)?, &key, &name).await
}

/// `<image name without extension>.<output extension>`, after the uploaded image when it still
/// exists, else after the task; safe inside a quoted header value.
async fn download_name(ctx: &Ctx, tenant: &TenantId, task: &Value, id: &TaskId) -> ApiResult<String> {
    let image_name = match task["outputs"][0]["image"].as_str().map(ImageId::parse) {
        Some(Ok(image)) => Images::new(&ctx.env)?.get_record(tenant, &image).await.ok().map(|r| r.name),
        _ => None,
    };
    let name = image_name.unwrap_or_else(|| id.to_string());
    let ext = match task["outputs"][0]["content_type"].as_str() {
        Some("image/jpeg") => "jpg",
        Some("image/png") => "png",
        Some("image/webp") => "webp",
        Some("image/gif") => "gif",
        _ => "bin",
    };
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(stem, _)| stem);
    let safe: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || "-_. ".contains(c) { c } else { '_' }).collect();
    Ok(format!("{safe}.{ext}"))
}

/// Streams an R2 object as an attachment, honouring `If-None-Match` (304) and one `Range` (206).
async fn serve(req: &Request, bucket: &Bucket, key: &str, name: &str) -> ApiResult<Response> {
    let head = bucket.head(key).await?.ok_or_else(|| ApiError::Internal(format!("output {key} is missing")))?;
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
