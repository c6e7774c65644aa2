//! `GET /tasks/{id}/download`: the finished task's output, with validators and byte ranges.

use super::{authenticate, param, Ctx};
use crate::error::{ApiError, ApiResult};
use crate::ids::{ImageId, TaskId};
use crate::storage::Images;
use crate::keys;
use crate::range::{self, ByteRange};
use crate::bindings::IMAGES_BUCKET;
use crate::task::client::TaskClient;
use worker::{Range, Request, Response};

pub async fn get(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = authenticate(&req, &ctx.data)?;
    let id = TaskId::parse(param(&ctx, "id")?)?;
    let task = TaskClient::new(&ctx.env, &id)?.state(&tenant).await?;
    if task["status"] != "succeeded" {
        return Err(ApiError::TaskNotFinished(format!("the task is {}; its output exists once it has succeeded", task["status"])));
    }
    let last_step = task["steps"].as_array().map_or(0, |s| s.len().saturating_sub(1));
    let key = keys::step_output(&id, 0, last_step);
    let bucket = ctx.env.bucket(IMAGES_BUCKET)?;
    let head = bucket.head(key.clone()).await?.ok_or_else(|| ApiError::Internal(format!("output {key} is missing")))?;
    let (etag, total) = (head.http_etag(), head.size());
    let content_type = head.http_metadata().content_type.unwrap_or_else(|| "application/octet-stream".into());
    let headers = worker::Headers::new();
    headers.set("etag", &etag)?;
    headers.set("accept-ranges", "bytes")?;
    // Name the file after the uploaded image when it still exists, else after the task.
    let image_name = match task["outputs"][0]["image"].as_str().map(ImageId::parse) {
        Some(Ok(image)) => Images::new(&ctx.env)?.get_record(&tenant, &image).await.ok().map(|r| r.name),
        _ => None,
    };
    let name = file_name(image_name.as_deref().unwrap_or(id.as_str()), &content_type);
    headers.set("content-disposition", &format!("attachment; filename=\"{name}\""))?;
    if req.headers().get("if-none-match")?.is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
        return Ok(Response::empty()?.with_status(304).with_headers(headers));
    }
    let wanted = req.headers().get("range")?.map(|h| range::parse(&h, total));
    let (status, span) = match wanted {
        None | Some(None) => (200, None),
        Some(Some(Err(range::Unsatisfiable))) => {
            headers.set("content-range", &format!("bytes */{total}"))?;
            return Ok(Response::empty()?.with_status(416).with_headers(headers));
        }
        Some(Some(Ok(r))) => (206, Some(r)),
    };
    let mut get = bucket.get(key.clone());
    if let Some(ByteRange { start, end }) = span {
        get = get.range(Range::OffsetWithLength { offset: start, length: end - start + 1 });
        headers.set("content-range", &format!("bytes {start}-{end}/{total}"))?;
    }
    let obj = get.execute().await?.ok_or_else(|| ApiError::Internal(format!("output {key} vanished")))?;
    let body = obj.body().ok_or_else(|| ApiError::Internal("output has no body".into()))?;
    headers.set("content-type", &content_type)?;
    Ok(Response::from_body(body.response_body()?)?.with_status(status).with_headers(headers))
}

/// `<name without extension>.<output extension>`, safe inside a quoted header value.
fn file_name(name: &str, content_type: &str) -> String {
    let ext = match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/gif" => "gif",
        _ => "bin",
    };
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let safe: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || "-_. ".contains(c) { c } else { '_' }).collect();
    format!("{safe}.{ext}")
}
