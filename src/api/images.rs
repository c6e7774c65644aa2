//! `/images`: upload (sniffed and probed, never decoded), list, read back, delete (with
//! everything derived from the image).

use super::error::{ApiError, ApiResult};
use super::gate::admit;
use super::render_links::with_image_links;
use super::{json_response, param, query_pairs, upload_body, Ctx};
use crate::clock::now_iso;
use crate::ids::{ImageId, TenantId};
use crate::keys;
use crate::memory;
use crate::ratelimit::Cost;
use crate::storage::{Held, ImageRecord, Images};
use crate::tenant::client::TenantIndex;
use crate::tenant::page::ListQuery;
use crate::tenant::ImageRow;
use functions::format::probe;
use functions::{ImageError, ImageInfo};
use serde_json::Value;
use upload_body::Upload;
use worker::{Request, Response};

/// Longest image name kept.
const MAX_NAME: usize = 255;

pub async fn upload(mut req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit(&req, &ctx, Cost::Write).await?;
    let config = &ctx.data.config;
    let (images, id) = (Images::new(&ctx.env)?, ImageId::generate()?);
    let upload = upload_body::read(&mut req, config.max_upload_bytes, &images, &keys::staging(&tenant, &id)).await?;
    let kept = keep(&req, &ctx, &images, &tenant, id, &upload).await;
    // Whatever refused a staged upload (its header, its name, a failed copy), the staging
    // object goes: nothing else would ever delete it, and no quota counts it.
    if let (Err(_), Held::Staged(key)) = (&kept, &upload.held) {
        images.discard(key).await;
    }
    let (record, body) = kept?;
    let row = ImageRow { id: record.id.clone(), sha256: record.sha256.clone(), bytes: record.bytes, body: body.clone() };
    let (quota, owed) = (config.max_storage_bytes_per_tenant, crate::analysis::owed_wait_ms(config));
    if let Err(e) = TenantIndex::new(&ctx.env, &tenant)?.put_image(&row, quota, owed).await {
        // An image missing from the listings would be invisible yet stored (or over the
        // tenant's quota: the index counts and refuses it atomically): take it back.
        let _ = images.delete_original(&tenant, &record.id).await;
        return Err(e.into());
    }
    crate::analysis::request_after_answer(&ctx.data.background, &ctx.env, config, &tenant, &record.id);
    json_response(&with_image_links(body, &req, &ctx.data, &tenant)?, 201)
}

/// Checks the upload and its name and stores it as the original; its record, and as JSON.
async fn keep(
    req: &Request,
    ctx: &Ctx,
    images: &Images,
    tenant: &TenantId,
    id: ImageId,
    upload: &Upload,
) -> ApiResult<(ImageRecord, Value)> {
    let info = admissible(images, upload, ctx.data.config.max_input_pixels).await?;
    let query_name = req.url()?.query_pairs().find(|(k, _)| k == "name").map(|(_, v)| v.into_owned());
    let name = match query_name.or(upload.name.clone()) {
        Some(n) => validate_name(&n)?,
        None => format!("{id}.{}", info.format.extension()),
    };
    let record = ImageRecord {
        name,
        content_type: info.format.mime().into(),
        format: info.format,
        width: info.width,
        height: info.height,
        bytes: upload.len,
        sha256: upload.sha256.clone(),
        created_at: now_iso(),
        progressive: info.progressive,
        wide: info.wide,
        placeholder: None,
        id,
    };
    let body = serde_json::to_value(&record).map_err(|e| ApiError::Internal(e.to_string()))?;
    images.keep(tenant, &record, &upload.held).await?;
    Ok((record, body))
}

/// The upload's header, if the studio takes it: a format it reads, within `MAX_INPUT_PIXELS`.
async fn admissible(images: &Images, upload: &Upload, max_pixels: u64) -> ApiResult<ImageInfo> {
    let info = probe_upload(images, upload).await?;
    if info.pixels() > max_pixels {
        return Err(ApiError::ImageTooLarge(format!(
            "the image is {}x{} = {} pixels; MAX_INPUT_PIXELS is {max_pixels}",
            info.width,
            info.height,
            info.pixels()
        )));
    }
    Ok(info)
}

/// The header, from the upload's first window; a format recognised there whose header the
/// window does not hold (a TIFF's directory may sit at the very end) is read from the whole,
/// when the copy and the decoder's reading of it can fit an isolate at all.
async fn probe_upload(images: &Images, upload: &Upload) -> ApiResult<ImageInfo> {
    match probe(&upload.head) {
        Err(ImageError::Invalid(_)) if (upload.head.len() as u64) < upload.len => {
            memory::check(upload.len.saturating_mul(2)).map_err(|e| ApiError::ImageTooLarge(format!("reading this file's header {e}")))?;
            Ok(probe(&images.whole(&upload.held).await?)?)
        }
        other => Ok(other?),
    }
}

/// `GET /images`: the tenant's images, newest first, a page at a time.
pub async fn list(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit(&req, &ctx, Cost::Read).await?;
    let query = ListQuery::parse(&query_pairs(&req)?, false)?;
    let mut page = TenantIndex::new(&ctx.env, &tenant)?.list_images(&query).await?;
    page.items = page.items.into_iter().map(|image| with_image_links(image, &req, &ctx.data, &tenant)).collect::<ApiResult<_>>()?;
    json_response(&page.into_json(), 200)
}

fn validate_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::InvalidRequest(format!("name: must be 1 to {MAX_NAME} printable characters")));
    }
    Ok(name.to_string())
}

pub async fn get(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit(&req, &ctx, Cost::Read).await?;
    let id = ImageId::parse(param(&ctx, "id")?)?;
    let record = Images::new(&ctx.env)?.get_record(&tenant, &id).await?;
    let body = serde_json::to_value(&record).map_err(|e| ApiError::Internal(e.to_string()))?;
    json_response(&with_image_links(body, &req, &ctx.data, &tenant)?, 200)
}

pub async fn content(req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit(&req, &ctx, Cost::Read).await?;
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
    let tenant = admit(&req, &ctx, Cost::Write).await?;
    let id = ImageId::parse(param(&ctx, "id")?)?;
    let index = TenantIndex::new(&ctx.env, &tenant)?;
    let usage = index.image_usage(&id).await?;
    // Storage first, index last: if a delete fails halfway the image is still listed and
    // deleting it again finishes the job.
    let images = Images::new(&ctx.env)?;
    images.delete_cascade(&tenant, &id, &usage).await?;
    crate::render::edge::purge(images.bucket(), &req.url()?.origin().ascii_serialization(), &tenant, &id).await?;
    index.delete_image(&id).await?;
    Ok(Response::empty()?.with_status(204))
}
