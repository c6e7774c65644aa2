//! Signed render URLs: minted on request (`POST /images/{id}/links`) for embedding, and the
//! `links.thumbnail` every image object carries so that galleries never fetch originals.

use super::body::{self, BodyLimit};
use super::error::{ApiError, ApiResult};
use super::gate::{admit, signed_resource};
use super::render::resource;
use super::{json_response, param, AppState, Ctx};
use crate::clock::now_secs;
use crate::ids::{ImageId, TenantId};
use crate::ratelimit::Cost;
use crate::render::options::RenderOptions;
use crate::storage::Images;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Request, Response};

/// A link request is a handful of options: a few hundred bytes (a `steps` chain, a few KiB).
const LINK_BODY_LIMIT: BodyLimit = BodyLimit { bytes: 16 * 1024, what: "link requests", source: "16 KiB" };

/// The thumbnail every image object links to: a 256 px square, format negotiated.
const THUMBNAIL: [(&str, &str); 3] = [("w", "256"), ("h", "256"), ("fit", "cover")];

/// Thumbnail links expire on a weekly grid, 1–2 weeks ahead: the URL stays the same for a
/// week, so browsers and the edge cache reuse it across listings instead of seeing a new URL
/// (a new `exp`) on every page load.
const THUMBNAIL_GRID_SECONDS: i64 = 7 * 24 * 3600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    render: Option<Value>,
    ttl_seconds: Option<u64>,
}

/// `POST /images/{id}/links`: `{"render": {<options>}, "ttl_seconds": n}` → a signed render URL.
pub async fn create(mut req: Request, ctx: Ctx) -> ApiResult<Response> {
    let tenant = admit(&req, &ctx, Cost::Read).await?;
    let image = ImageId::parse(param(&ctx, "id")?)?;
    let body = body::read(&mut req, &LINK_BODY_LIMIT).await?;
    let request: LinkRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::InvalidRequest(format!("the body must be {{\"render\": {{…}}, \"ttl_seconds\": n}}: {e}")))?;
    let options = RenderOptions::from_json(&request.render.unwrap_or_else(|| json!({})))?;
    let max = ctx.data.config.render_link_max_ttl_seconds;
    let ttl = request.ttl_seconds.unwrap_or(max);
    if !(1..=max).contains(&ttl) {
        return Err(ApiError::InvalidRequest(format!("ttl_seconds: must be from 1 to {max} (RENDER_LINK_MAX_TTL_SECONDS)")));
    }
    // A link to an image that is not the tenant's would only ever answer 404: refuse it now.
    Images::new(&ctx.env)?.get_record(&tenant, &image).await?;
    let exp = now_secs().saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX));
    let url = signed_resource(&ctx.data, &tenant, &origin(&req)?, &resource(&image, &options), exp);
    let expires_at = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(exp as f64 * 1000.0)).to_iso_string();
    json_response(&json!({"url": url, "expires_at": String::from(expires_at)}), 201)
}

fn origin(req: &Request) -> ApiResult<String> {
    Ok(req.url()?.origin().ascii_serialization())
}

/// Adds `links.thumbnail` to an image object (a JSON object with an `id`).
pub fn with_image_links(mut image: Value, req: &Request, state: &AppState, tenant: &TenantId) -> ApiResult<Value> {
    let Some(id) = image["id"].as_str().and_then(|id| ImageId::parse(id).ok()) else { return Ok(image) };
    let options = RenderOptions::parse(THUMBNAIL).map_err(|e| ApiError::Internal(e.to_string()))?;
    let exp = (now_secs() / THUMBNAIL_GRID_SECONDS + 2) * THUMBNAIL_GRID_SECONDS;
    image["links"] = json!({"thumbnail": signed_resource(state, tenant, &origin(req)?, &resource(&id, &options), exp)});
    Ok(image)
}
