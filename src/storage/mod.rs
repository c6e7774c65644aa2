//! Originals in R2, scoped to a tenant on every call, with the storage layer's own error.

mod js_put;
mod meta;

pub use js_put::put_js;

pub use meta::{box_meta, stored_output, ImageRecord, BOX_META, HEIGHT_META, WIDTH_META};

use crate::bindings::IMAGES_BUCKET;
use crate::ids::{IdError, ImageId, TenantId};
use crate::keys;
use crate::task::model::Output;
use crate::tenant::ImageUsage;
use functions::placeholder::Placeholder;
use functions::ImageError;
use js_sys::Uint8Array;
use thiserror::Error;
use worker::{Bucket, Conditional, Data, Env, FixedLengthStream, HttpMetadata, Object, ResponseBody};

/// What the image bucket answers instead of an image; the HTTP edge gives each its code.
#[derive(Debug, Error)]
pub enum StorageError {
    /// No such original for this tenant (another tenant's id included).
    #[error("not found")]
    NotFound,
    /// A chain names an image by an id that cannot be one.
    #[error(transparent)]
    Id(#[from] IdError),
    /// A chain's watermark is larger than a step may hold while it runs.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// R2 or the runtime failed, or a stored record cannot be read back: ours to fix.
    #[error("{0}")]
    Platform(String),
}

impl From<worker::Error> for StorageError {
    fn from(e: worker::Error) -> Self {
        StorageError::Platform(e.to_string())
    }
}

pub type StorageResult<T> = Result<T, StorageError>;

/// Where a received upload is, before it is kept as an original.
pub enum Held {
    /// In one JS buffer (a form's file or a chunked body under one part, `api::upload_spool`).
    Js(Uint8Array),
    /// Already in R2, under this staging key (a streamed raw body, a larger form's file).
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
    pub async fn whole(&self, held: &Held) -> StorageResult<Vec<u8>> {
        match held {
            Held::Js(bytes) => Ok(bytes.to_vec()),
            Held::Staged(key) => {
                let obj = self.bucket.get(key.clone()).execute().await?.ok_or(StorageError::Platform(format!("{key} vanished")))?;
                Ok(obj.body().ok_or(StorageError::Platform(format!("{key} has no body")))?.bytes().await?)
            }
        }
    }

    /// Stores a received upload as the original with its record.
    pub async fn keep(&self, tenant: &TenantId, record: &ImageRecord, held: &Held) -> StorageResult<()> {
        match held {
            Held::Js(bytes) => self.put(tenant, record, bytes).await,
            Held::Staged(key) => self.promote(tenant, record, key).await,
        }
    }

    /// Copies a staged upload under the original's key with its record (R2 to R2: the runtime
    /// pipes the object's stream, nothing passes through wasm), then drops the staging copy.
    async fn promote(&self, tenant: &TenantId, record: &ImageRecord, staged: &str) -> StorageResult<()> {
        let obj = self.bucket.get(staged.to_string()).execute().await?.ok_or(StorageError::Platform(format!("{staged} vanished")))?;
        let ResponseBody::Stream(stream) = obj.body().ok_or(StorageError::Platform(format!("{staged} has no body")))?.response_body()?
        else {
            return Err(StorageError::Platform(format!("{staged} has no stream")));
        };
        let http = HttpMetadata { content_type: Some(record.content_type.clone()), ..Default::default() };
        let key = keys::original(tenant, &record.id);
        self.bucket.put(key, Data::ReadableStream(stream)).http_metadata(http).custom_metadata(record.to_metadata()).execute().await?;
        self.discard(staged).await;
        Ok(())
    }

    /// Stores an original handed over as a JS buffer: R2 reads it from JS memory, so the
    /// upload never enters wasm memory whole (see `api::upload_body`).
    pub async fn put(&self, tenant: &TenantId, record: &ImageRecord, bytes: &Uint8Array) -> StorageResult<()> {
        let key = keys::original(tenant, &record.id);
        put_js(&self.bucket, key, bytes, &record.content_type, &record.to_metadata())
            .await
            .map_err(|e| StorageError::Platform(format!("R2 put: {e}")))
    }

    /// The image object, or `NotFound` (also for another tenant's id).
    pub async fn get_record(&self, tenant: &TenantId, id: &ImageId) -> StorageResult<ImageRecord> {
        let obj = self.bucket.head(keys::original(tenant, id)).await?.ok_or(StorageError::NotFound)?;
        ImageRecord::from_object(id.clone(), &obj)
    }

    /// Writes `placeholder` into the original's record: R2 sets metadata only with a put, so
    /// the original is copied onto itself (streamed R2 to R2, nothing through wasm), and only
    /// if it is still the object just read (its etag): a delete in between is never undone.
    /// `false` when the original is gone.
    pub async fn set_placeholder(&self, tenant: &TenantId, id: &ImageId, placeholder: &Placeholder) -> StorageResult<bool> {
        let key = keys::original(tenant, id);
        let Some(obj) = self.bucket.get(key.clone()).execute().await? else { return Ok(false) };
        let mut record = ImageRecord::from_object(id.clone(), &obj)?;
        record.placeholder = Some(placeholder.clone());
        let ResponseBody::Stream(stream) = obj.body().ok_or(StorageError::Platform(format!("{key} has no body")))?.response_body()? else {
            return Err(StorageError::Platform(format!("{key} has no stream")));
        };
        let http = HttpMetadata { content_type: Some(record.content_type.clone()), ..Default::default() };
        let only_if = Conditional { etag_matches: Some(obj.etag()), ..Default::default() };
        let put = self.bucket.put(key, Data::ReadableStream(stream)).http_metadata(http).custom_metadata(record.to_metadata());
        Ok(put.only_if(only_if).execute().await?.is_some())
    }

    /// The other images `chain`'s steps read (a watermark), as (id, R2 key): they must be the
    /// tenant's too (another's is "not found"), and a step holds the stored file while it runs,
    /// so its size is capped (413 otherwise).
    pub async fn aux_originals(&self, tenant: &TenantId, chain: &functions::Chain) -> StorageResult<Vec<(String, String)>> {
        let mut aux = Vec::new();
        for id in chain.steps().iter().flat_map(|s| s.aux_images()) {
            let record = self.get_record(tenant, &ImageId::parse(id)?).await?;
            functions::ops::compose::check_stored_size(id, record.bytes)?;
            aux.push((id.to_string(), keys::original(tenant, &record.id)));
        }
        Ok(aux)
    }

    /// The original with its body, or `NotFound`.
    pub async fn get_content(&self, tenant: &TenantId, id: &ImageId) -> StorageResult<Object> {
        self.bucket.get(keys::original(tenant, id)).execute().await?.ok_or(StorageError::NotFound)
    }

    /// A stored result of the same bytes and chain (see [`crate::keys::result`]), if any.
    pub async fn find_result(&self, tenant: &TenantId, result_key: &str) -> StorageResult<Option<Output>> {
        Ok(stored_output(&self.bucket, &keys::result(tenant, result_key)).await?)
    }

    /// Deletes just the original (undoing an upload that could not be indexed).
    pub async fn delete_original(&self, tenant: &TenantId, id: &ImageId) -> StorageResult<()> {
        Ok(self.bucket.delete(keys::original(tenant, id)).await?)
    }

    /// Deletes the original and what was derived from it: every result made from its bytes
    /// (unless another image of the tenant has the same bytes) and the zips of the tasks that
    /// processed it. Safe to repeat: a retried delete finishes what a failed one began.
    pub async fn delete_cascade(&self, tenant: &TenantId, id: &ImageId, usage: &ImageUsage) -> StorageResult<()> {
        let mut doomed: Vec<String> = vec![keys::original(tenant, id)];
        doomed.extend(usage.tasks.iter().map(keys::archive));
        if !usage.bytes_shared {
            doomed.extend(list_keys(&self.bucket, &keys::results_of(tenant, &usage.sha256)).await?);
        }
        Ok(delete_keys(&self.bucket, &doomed).await?)
    }

    /// The bucket itself, for the render path's derived store (`render::produce`).
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }
}

/// Every key under `prefix`, page by page.
pub async fn list_keys(bucket: &Bucket, prefix: &str) -> worker::Result<Vec<String>> {
    let (mut keys, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let mut list = bucket.list().prefix(prefix);
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

/// Deletes `keys` (R2 takes at most 1,000 per call).
pub async fn delete_keys(bucket: &Bucket, keys: &[String]) -> worker::Result<()> {
    for chunk in keys.chunks(1000) {
        bucket.delete_multiple(chunk.to_vec()).await?;
    }
    Ok(())
}
