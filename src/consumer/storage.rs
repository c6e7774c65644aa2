//! R2 as the consumer uses it: the job's input, the images a step reads, the result and
//! checkpoints, and deleting checkpoints once they are dead weight.

use crate::bindings::IMAGES_BUCKET;
use crate::messages::Outcome;
use crate::storage::{box_meta, BOX_META, HEIGHT_META, WIDTH_META};
use crate::task::model::Output;
use functions::ops::region::Region;
use functions::Step;
use std::collections::HashMap;
use worker::{Bucket, Env, HttpMetadata};

pub struct Store {
    bucket: Bucket,
}

/// A permanent failure: something the job needs is gone (retrying cannot bring it back).
pub fn missing(message: &str) -> Outcome {
    Outcome::Failed { code: "not_found".into(), message: message.into() }
}

impl Store {
    pub fn open(env: &Env) -> worker::Result<Store> {
        Ok(Store { bucket: env.bucket(IMAGES_BUCKET)? })
    }

    /// The result an earlier attempt stored under `key`, if any.
    pub async fn existing(&self, key: &str) -> worker::Result<Option<Output>> {
        crate::storage::stored_output(&self.bucket, key).await
    }

    /// The object's bytes, or `None` if there is no such object.
    pub async fn get(&self, key: &str) -> worker::Result<Option<Vec<u8>>> {
        let Some(obj) = self.bucket.get(key.to_string()).execute().await? else { return Ok(None) };
        let body = obj.body().ok_or_else(|| worker::Error::RustError(format!("{key} has no body")))?;
        Ok(Some(body.bytes().await?))
    }

    /// Stores `bytes` with their media type, pixel size and, for a result, the box its chain
    /// kept (so that a later identical request reports it too).
    pub async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        (width, height): (u32, u32),
        region: Option<Region>,
    ) -> worker::Result<()> {
        let http = HttpMetadata { content_type: Some(content_type.to_string()), ..Default::default() };
        let mut meta = HashMap::from([(WIDTH_META.to_string(), width.to_string()), (HEIGHT_META.to_string(), height.to_string())]);
        if let Some(r) = region {
            meta.insert(BOX_META.to_string(), box_meta(&r));
        }
        self.bucket.put(key.to_string(), bytes).http_metadata(http).custom_metadata(meta).execute().await?;
        Ok(())
    }

    /// Loads the other images `step` reads (a watermark), by id, from the chain's `aux` list of
    /// (id, key); loaded per step so that nothing is held while other steps run. A missing one
    /// is left out: the step then fails with a clear image error rather than retrying forever.
    pub async fn aux(&self, aux: &[(String, String)], step: &Step) -> worker::Result<HashMap<String, Vec<u8>>> {
        let mut out = HashMap::new();
        for id in step.aux_images() {
            let Some((_, key)) = aux.iter().find(|(known, _)| known == id) else { continue };
            if let Some(bytes) = self.get(key).await? {
                out.insert(id.to_string(), bytes);
            }
        }
        Ok(out)
    }

    /// Deletes `keys`; a failure only wastes storage, so errors are ignored.
    pub async fn delete_all(&self, keys: impl Iterator<Item = &String>) {
        for key in keys {
            let _ = self.bucket.delete(key.clone()).await;
        }
    }
}
