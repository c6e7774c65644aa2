//! `/images`: upload (sniffed and probed, never decoded), read back, delete.

use super::{authenticate, json_response, param, Ctx};
use crate::clock::now_iso;
use crate::error::{ApiError, ApiResult};
use crate::ids::ImageId;
use crate::storage::{ImageRecord, Images};
use functions::format::probe;
use sha2::{Digest, Sha256};
use worker::{FormEntry, Request, Response};

/// Longest image name kept.
const MAX_NAME: usize = 255;

pub async fn upload(mut req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = authenticate(&req, &ctx.data)?;
    let config = &ctx.data.config;
    let (bytes, file_name) = read_limited_body(&mut req, config.max_upload_bytes).await?;
    let info = probe(&bytes)?;
    if info.pixels() > config.max_input_pixels {
        return Err(ApiError::ImageTooLarge(format!(
            "the image is {}x{} = {} pixels; MAX_INPUT_PIXELS is {}",
            info.width, info.height, info.pixels(), config.max_input_pixels
        )));
    }
    let id = ImageId::generate()?;
    let query_name = req.url()?.query_pairs().find(|(k, _)| k == "name").map(|(_, v)| v.into_owned());
    let name = match query_name.or(file_name) {
        Some(n) => validate_name(&n)?,
        None => format!("{id}.{}", info.format.extension()),
    };
    let record = ImageRecord {
        name,
        content_type: info.format.mime().into(),
        format: info.format,
        width: info.width,
        height: info.height,
        bytes: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
        created_at: now_iso(),
        progressive: info.progressive,
        id,
    };
    Images::new(&ctx.env)?.put(&tenant, &record, bytes).await?;
    json_response(&serde_json::to_value(&record).map_err(|e| ApiError::Internal(e.to_string()))?, 201)
}

/// Reads the upload, refusing by the declared length before reading anything and by the real
/// length after; an empty body is not an image.
async fn read_limited_body(req: &mut Request, limit: u64) -> ApiResult<(Vec<u8>, Option<String>)> {
    let too_large = || ApiError::PayloadTooLarge(format!("uploads are limited to {limit} bytes (MAX_UPLOAD_BYTES)"));
    let declared = req.headers().get("content-length")?.and_then(|l| l.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let (bytes, file_name) = read_body(req).await?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    if bytes.is_empty() {
        return Err(ApiError::InvalidImage("the body is empty".into()));
    }
    Ok((bytes, file_name))
}

/// The raw body, or the `file` field of a multipart form (with its file name).
async fn read_body(req: &mut Request) -> ApiResult<(Vec<u8>, Option<String>)> {
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    if !content_type.starts_with("multipart/form-data") {
        return Ok((req.bytes().await?, None));
    }
    let form = req.form_data().await.map_err(|_| ApiError::InvalidRequest("the multipart body cannot be parsed".into()))?;
    match form.get("file") {
        Some(FormEntry::File(file)) => {
            let name = Some(file.name()).filter(|n| !n.is_empty());
            Ok((file.bytes().await?, name))
        }
        _ => Err(ApiError::InvalidRequest("file: a multipart upload needs a file field named \"file\"".into())),
    }
}

fn validate_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::InvalidRequest(format!("name: must be 1 to {MAX_NAME} printable characters")));
    }
    Ok(name.to_string())
}

pub async fn get(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = authenticate(&req, &ctx.data)?;
    let id = ImageId::parse(param(&ctx, "id")?)?;
    let record = Images::new(&ctx.env)?.get_record(&tenant, &id).await?;
    json_response(&serde_json::to_value(&record).map_err(|e| ApiError::Internal(e.to_string()))?, 200)
}

pub async fn content(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = authenticate(&req, &ctx.data)?;
    let id = ImageId::parse(param(&ctx, "id")?)?;
    let obj = Images::new(&ctx.env)?.get_content(&tenant, &id).await?;
    let etag = obj.http_etag();
    let content_type = obj.http_metadata().content_type.unwrap_or_else(|| "application/octet-stream".into());
    let body = obj.body().ok_or_else(|| ApiError::Internal("original has no body".into()))?;
    let mut resp = Response::from_body(body.response_body()?)?;
    resp.headers_mut().set("content-type", &content_type)?;
    resp.headers_mut().set("etag", &etag)?;
    Ok(resp)
}

pub async fn delete(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = authenticate(&req, &ctx.data)?;
    let id = ImageId::parse(param(&ctx, "id")?)?;
    Images::new(&ctx.env)?.delete(&tenant, &id).await?;
    Ok(Response::empty()?.with_status(204))
}
