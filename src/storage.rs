//! Originals in R2: the image object is kept as the R2 object's custom metadata, so a `head`
//! answers `GET /images/{id}` without reading any pixels.

use crate::bindings::IMAGES_BUCKET;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ImageId, TenantId};
use crate::keys;
use crate::task::model::Output;
use crate::tenant::ImageUsage;
use functions::ops::region::Region;
use functions::placeholder::Placeholder;
use functions::{Format, ImageInfo};
use js_sys::{Function, Object as JsObject, Promise, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{Bucket, Conditional, Data, Env, FixedLengthStream, HttpMetadata, Object, ResponseBody};

/// Custom metadata of a stored result: what a later identical request needs to reuse it.
pub const WIDTH_META: &str = "width";
pub const HEIGHT_META: &str = "height";
/// The box a result's chain kept (`trim`, `smart_crop`), as `x,y,width,height`.
pub const BOX_META: &str = "box";

/// [`BOX_META`]'s text for `region`.
pub fn box_meta(r: &Region) -> String {
    format!("{},{},{},{}", r.x, r.y, r.width, r.height)
}

/// Reads [`BOX_META`]'s text; `None` when absent or malformed.
fn parse_box(text: &str) -> Option<Region> {
    let mut parts = text.split(',').map(|p| p.parse::<u32>().ok());
    let (x, y, width, height) = (parts.next()??, parts.next()??, parts.next()??, parts.next()??);
    Some(Region { x, y, width, height })
}

/// The contract's image object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub id: ImageId,
    pub name: String,
    pub content_type: String,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub sha256: String,
    pub created_at: String,
    /// Kept in R2 metadata for the memory planner; not part of the public image object.
    #[serde(skip)]
    pub progressive: bool,
    /// The decoder holds about twice the raster: 16-bit samples or an animated WebP (planner
    /// only, like `progressive`); absent on older records = false.
    #[serde(skip)]
    pub wide: bool,
    /// Set by the image's analysis job after the upload ([`crate::analysis`]); `null` until then.
    pub placeholder: Option<Placeholder>,
}

impl ImageRecord {
    pub fn info(&self) -> ImageInfo {
        ImageInfo { format: self.format, width: self.width, height: self.height, progressive: self.progressive, wide: self.wide }
    }

    fn to_metadata(&self) -> HashMap<String, String> {
        let placeholder = self.placeholder.as_ref().and_then(|p| serde_json::to_string(p).ok());
        let mut meta = HashMap::from([
            ("name".into(), self.name.clone()),
            ("format".into(), self.format.name().into()),
            ("width".into(), self.width.to_string()),
            ("height".into(), self.height.to_string()),
            ("sha256".into(), self.sha256.clone()),
            ("created_at".into(), self.created_at.clone()),
            ("progressive".into(), self.progressive.to_string()),
            ("wide".into(), self.wide.to_string()),
        ]);
        meta.extend(placeholder.map(|p| ("placeholder".to_string(), p)));
        meta
    }

    fn from_object(id: ImageId, obj: &Object) -> ApiResult<ImageRecord> {
        let meta = obj.custom_metadata()?;
        let field = |k: &str| meta.get(k).cloned().ok_or_else(|| ApiError::Internal(format!("{id}: metadata lacks {k}")));
        let number = |k: &str| field(k)?.parse::<u32>().map_err(|e| ApiError::Internal(format!("{id}: bad {k}: {e}")));
        let format = Format::from_name(&field("format")?).ok_or_else(|| ApiError::Internal(format!("{id}: bad format")))?;
        Ok(ImageRecord {
            name: field("name")?,
            content_type: format.mime().into(),
            format,
            width: number("width")?,
            height: number("height")?,
            bytes: obj.size(),
            sha256: field("sha256")?,
            created_at: field("created_at")?,
            progressive: meta.get("progressive").is_some_and(|p| p == "true"),
            wide: meta.get("wide").is_some_and(|p| p == "true"),
            // A record that cannot be read back keeps none rather than failing the image.
            placeholder: meta.get("placeholder").and_then(|p| serde_json::from_str(p).ok()),
            id,
        })
    }
}

/// The finished step's output stored under `key`, if any: a result (reused by an identical
/// request, or by a retry whose earlier attempt stored it but could not report it).
pub async fn stored_output(bucket: &Bucket, key: &str) -> worker::Result<Option<Output>> {
    let Some(obj) = bucket.head(key.to_string()).await? else { return Ok(None) };
    let meta = obj.custom_metadata().unwrap_or_default();
    let dim = |name: &str| meta.get(name).and_then(|v| v.parse::<u32>().ok());
    let (Some(width), Some(height), Some(content_type)) = (dim(WIDTH_META), dim(HEIGHT_META), obj.http_metadata().content_type) else {
        // Not written by a finished step (or by an older version): run the chain instead.
        return Ok(None);
    };
    let region = meta.get(BOX_META).and_then(|b| parse_box(b));
    Ok(Some(Output { key: key.to_string(), content_type, width, height, bytes: obj.size(), region }))
}

/// Where a received upload is, before it is kept as an original.
pub enum Held {
    /// In one JS buffer (a form's file, a chunked body).
    Js(Uint8Array),
    /// Already in R2, under this staging key (a streamed raw body).
    Staged(String),
}

/// The image bucket, scoped to one tenant on every call.
pub struct Images {
    bucket: Bucket,
}

impl Images {
    pub fn new(env: &Env) -> worker::Result<Images> {
        Ok(Images { bucket: env.bucket(IMAGES_BUCKET)? })
    }

    /// Receives a streamed upload under a staging key (see `api::upload_stream`).
    pub async fn put_staged(&self, key: &str, body: FixedLengthStream) -> worker::Result<()> {
        self.bucket.put(key.to_string(), Data::Stream(body)).execute().await.map(drop)
    }

    /// Drops a staged upload that will not be kept; a failure only wastes storage.
    pub async fn discard(&self, key: &str) {
        let _ = self.bucket.delete(key.to_string()).await;
    }

    /// A received upload in wasm memory, whole: only for a header its first window cannot
    /// answer (the caller checks the memory first).
    pub async fn whole(&self, held: &Held) -> ApiResult<Vec<u8>> {
        match held {
            Held::Js(bytes) => Ok(bytes.to_vec()),
            Held::Staged(key) => {
                let obj = self.bucket.get(key.clone()).execute().await?.ok_or(ApiError::Internal(format!("{key} vanished")))?;
                Ok(obj.body().ok_or(ApiError::Internal(format!("{key} has no body")))?.bytes().await?)
            }
        }
    }

    /// Stores a received upload as the original with its record.
    pub async fn keep(&self, env: &Env, tenant: &TenantId, record: &ImageRecord, held: &Held) -> ApiResult<()> {
        match held {
            Held::Js(bytes) => self.put(env, tenant, record, bytes).await,
            Held::Staged(key) => self.promote(tenant, record, key).await,
        }
    }

    /// Copies a staged upload under the original's key with its record (R2 to R2: the runtime
    /// pipes the object's stream, nothing passes through wasm), then drops the staging copy.
    async fn promote(&self, tenant: &TenantId, record: &ImageRecord, staged: &str) -> ApiResult<()> {
        let obj = self.bucket.get(staged.to_string()).execute().await?.ok_or(ApiError::Internal(format!("{staged} vanished")))?;
        let ResponseBody::Stream(stream) = obj.body().ok_or(ApiError::Internal(format!("{staged} has no body")))?.response_body()? else {
            return Err(ApiError::Internal(format!("{staged} has no stream")));
        };
        let http = HttpMetadata { content_type: Some(record.content_type.clone()), ..Default::default() };
        let key = keys::original(tenant, &record.id);
        self.bucket.put(key, Data::ReadableStream(stream)).http_metadata(http).custom_metadata(record.to_metadata()).execute().await?;
        self.discard(staged).await;
        Ok(())
    }

    /// Stores an original handed over as a JS buffer: R2 reads it from JS memory, so the
    /// upload never enters wasm memory whole (see `api::upload_body`). workers-rs's `put`
    /// takes a `Vec` (wasm memory), hence the binding's own method here.
    pub async fn put(&self, env: &Env, tenant: &TenantId, record: &ImageRecord, bytes: &Uint8Array) -> ApiResult<()> {
        let js = |e: JsValue| ApiError::Internal(format!("R2 put: {}", e.as_string().unwrap_or_else(|| format!("{e:?}"))));
        let bucket = Reflect::get(env, &JsValue::from_str(IMAGES_BUCKET)).map_err(js)?;
        let put: Function = Reflect::get(&bucket, &JsValue::from_str("put")).map_err(js)?.dyn_into().map_err(js)?;
        let custom = JsObject::new();
        for (name, value) in record.to_metadata() {
            Reflect::set(&custom, &JsValue::from_str(&name), &JsValue::from_str(&value)).map_err(js)?;
        }
        let http = JsObject::new();
        Reflect::set(&http, &JsValue::from_str("contentType"), &JsValue::from_str(&record.content_type)).map_err(js)?;
        let options = JsObject::new();
        Reflect::set(&options, &JsValue::from_str("httpMetadata"), &http).map_err(js)?;
        Reflect::set(&options, &JsValue::from_str("customMetadata"), &custom).map_err(js)?;
        let key = JsValue::from_str(&keys::original(tenant, &record.id));
        let promise: Promise = put.call3(&bucket, &key, bytes, &options).map_err(js)?.dyn_into().map_err(js)?;
        JsFuture::from(promise).await.map_err(js)?;
        Ok(())
    }

    /// The image object, or `NotFound` (also for another tenant's id).
    pub async fn get_record(&self, tenant: &TenantId, id: &ImageId) -> ApiResult<ImageRecord> {
        let obj = self.bucket.head(keys::original(tenant, id)).await?.ok_or(ApiError::NotFound)?;
        ImageRecord::from_object(id.clone(), &obj)
    }

    /// Writes `placeholder` into the original's record: R2 sets metadata only with a put, so
    /// the original is copied onto itself (streamed R2 to R2, nothing through wasm), and only
    /// if it is still the object just read (its etag): a delete in between is never undone.
    /// `false` when the original is gone.
    pub async fn set_placeholder(&self, tenant: &TenantId, id: &ImageId, placeholder: &Placeholder) -> ApiResult<bool> {
        let key = keys::original(tenant, id);
        let Some(obj) = self.bucket.get(key.clone()).execute().await? else { return Ok(false) };
        let mut record = ImageRecord::from_object(id.clone(), &obj)?;
        record.placeholder = Some(placeholder.clone());
        let ResponseBody::Stream(stream) = obj.body().ok_or(ApiError::Internal(format!("{key} has no body")))?.response_body()? else {
            return Err(ApiError::Internal(format!("{key} has no stream")));
        };
        let http = HttpMetadata { content_type: Some(record.content_type.clone()), ..Default::default() };
        let only_if = Conditional { etag_matches: Some(obj.etag()), ..Default::default() };
        let put = self.bucket.put(key, Data::ReadableStream(stream)).http_metadata(http).custom_metadata(record.to_metadata());
        Ok(put.only_if(only_if).execute().await?.is_some())
    }

    /// The other images `chain`'s steps read (a watermark), as (id, R2 key): they must be the
    /// tenant's too (another's is "not found"), and a step holds the stored file while it runs,
    /// so its size is capped (413 otherwise).
    pub async fn aux_originals(&self, tenant: &TenantId, chain: &functions::Chain) -> ApiResult<Vec<(String, String)>> {
        let mut aux = Vec::new();
        for id in chain.steps().iter().flat_map(|s| s.aux_images()) {
            let record = self.get_record(tenant, &ImageId::parse(id)?).await?;
            functions::ops::compose::check_stored_size(id, record.bytes)?;
            aux.push((id.to_string(), keys::original(tenant, &record.id)));
        }
        Ok(aux)
    }

    /// The original with its body, or `NotFound`.
    pub async fn get_content(&self, tenant: &TenantId, id: &ImageId) -> ApiResult<Object> {
        self.bucket.get(keys::original(tenant, id)).execute().await?.ok_or(ApiError::NotFound)
    }

    /// A stored result of the same bytes and chain (see [`crate::keys::result`]), if any.
    pub async fn find_result(&self, tenant: &TenantId, result_key: &str) -> ApiResult<Option<Output>> {
        Ok(stored_output(&self.bucket, &keys::result(tenant, result_key)).await?)
    }

    /// Deletes just the original (undoing an upload that could not be indexed).
    pub async fn delete_original(&self, tenant: &TenantId, id: &ImageId) -> ApiResult<()> {
        Ok(self.bucket.delete(keys::original(tenant, id)).await?)
    }

    /// Deletes the original and what was derived from it: every result made from its bytes
    /// (unless another image of the tenant has the same bytes) and the zips of the tasks that
    /// processed it. Safe to repeat: a retried delete finishes what a failed one began.
    pub async fn delete_cascade(&self, tenant: &TenantId, id: &ImageId, usage: &ImageUsage) -> ApiResult<()> {
        let mut doomed: Vec<String> = vec![keys::original(tenant, id)];
        doomed.extend(usage.tasks.iter().map(keys::archive));
        if !usage.bytes_shared {
            doomed.extend(self.list_keys(&keys::results_of(tenant, &usage.sha256)).await?);
        }
        self.delete_keys(doomed).await
    }

    /// Deletes `keys` (R2 takes at most 1,000 per call).
    pub async fn delete_keys(&self, keys: Vec<String>) -> ApiResult<()> {
        for chunk in keys.chunks(1000) {
            self.bucket.delete_multiple(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// The bucket itself, for the render path's derived store (`render::produce`).
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// Every key under `prefix`, page by page.
    pub async fn list_keys(&self, prefix: &str) -> ApiResult<Vec<String>> {
        let (mut keys, mut cursor) = (Vec::new(), None::<String>);
        loop {
            let mut list = self.bucket.list().prefix(prefix);
            if let Some(c) = cursor.take() {
                list = list.cursor(c);
            }
            let page = list.execute().await?;
            keys.extend(page.objects().iter().map(|o| o.key()));
            match page.cursor().filter(|_| page.truncated()) {
                Some(c) => cursor = Some(c),
                None => return Ok(keys),
            }
        }
    }
}
