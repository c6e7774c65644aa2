//! An upload whose length is not known up front (a form's file, a chunked body), on its way to
//! R2 without being held whole: the bytes fill one JS part buffer of [`PART_BYTES`]; a file
//! that fits is handed over as that buffer (one `put`), a larger one goes to its staging key as
//! an R2 multipart upload, a part each time the buffer fills, then is promoted like a streamed
//! raw body. R2 needs a stream's length before it starts writing, and a form's file length is
//! only known at its closing delimiter: fixed-size parts are how an unknown length is written.
//!
//! Memory per upload: the part buffer in JS (at most [`PART_BYTES`], at most the declared body
//! length), plus whatever the runtime keeps of the part it is sending; in wasm, the chunk going
//! by. A failed upload aborts its multipart upload, so nothing is left stored.

use super::error::{ApiError, ApiResult};
use super::upload_body::{Tap, Upload};
use crate::storage::Held;
use js_sys::{Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::worker_sys::{R2Bucket, R2MultipartUpload};
use worker::Bucket;

/// An R2 part (every part but the last must have this size; R2's smallest is 5 MiB).
pub const PART_BYTES: u32 = 5 << 20;

pub struct Spool<'a> {
    bucket: &'a Bucket,
    key: &'a str,
    part: Uint8Array,
    filled: u32,
    upload: Option<R2MultipartUpload>,
    parts: Vec<JsValue>,
    tap: Tap,
}

impl<'a> Spool<'a> {
    /// A spool to `key`; `expected` (a declared body length) bounds the first buffer.
    pub fn new(bucket: &'a Bucket, key: &'a str, expected: Option<u64>) -> Spool<'a> {
        let first = expected.map_or(PART_BYTES, |n| u32::try_from(n).unwrap_or(PART_BYTES).min(PART_BYTES));
        Spool { bucket, key, part: Uint8Array::new_with_length(first), filled: 0, upload: None, parts: Vec::new(), tap: Tap::default() }
    }

    /// Takes `bytes` (hashing them, keeping the probe's window), sending a part when full.
    pub async fn write(&mut self, mut bytes: &[u8]) -> ApiResult<()> {
        self.tap.feed(bytes);
        while !bytes.is_empty() {
            if self.filled == PART_BYTES {
                self.send_part().await?;
            }
            if self.filled == self.part.length() {
                // The declared length was smaller than the bytes: grow to a whole part.
                let grown = Uint8Array::new_with_length(PART_BYTES);
                grown.set(&self.part, 0);
                self.part = grown;
            }
            let n = (self.part.length() - self.filled).min(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
            self.part.subarray(self.filled, self.filled + n).copy_from(&bytes[..n as usize]);
            self.filled += n;
            bytes = &bytes[n as usize..];
        }
        Ok(())
    }

    /// The upload, in the part buffer (a file under one part) or completed under the key.
    pub async fn finish(mut self, name: Option<String>) -> ApiResult<Upload> {
        if self.tap.seen == 0 {
            return Err(ApiError::InvalidImage("the body is empty".into()));
        }
        let held = match self.upload.is_some() {
            false => Held::Js(self.part.subarray(0, self.filled)),
            true => {
                if let Err(e) = self.complete().await {
                    self.abort().await;
                    return Err(e);
                }
                Held::Staged(self.key.to_string())
            }
        };
        Ok(std::mem::take(&mut self.tap).into_upload(held, name))
    }

    /// Drops whatever was sent (a failed upload stores nothing).
    pub async fn abort(&self) {
        if let Some(upload) = &self.upload {
            if let Ok(promise) = upload.abort() {
                let _ = JsFuture::from(promise).await;
            }
        }
    }

    async fn complete(&mut self) -> ApiResult<()> {
        if self.filled > 0 {
            self.send_part().await?;
        }
        let upload = self.upload.as_ref().ok_or_else(|| ApiError::Internal("no multipart upload to complete".into()))?;
        settle(upload.complete(std::mem::take(&mut self.parts)), "completing the upload").await.map(drop)
    }

    /// Sends the buffer as the next part (starting the multipart upload on the first).
    async fn send_part(&mut self) -> ApiResult<()> {
        let upload = match &self.upload {
            Some(upload) => upload.clone(),
            None => {
                let bucket: &R2Bucket = self.bucket.as_ref().unchecked_ref();
                let started =
                    settle(bucket.create_multipart_upload(self.key.to_string(), JsValue::UNDEFINED), "starting the upload").await?;
                self.upload.insert(started.unchecked_into()).clone()
            }
        };
        let number = u16::try_from(self.parts.len() + 1).map_err(|_| ApiError::Internal("too many upload parts".into()))?;
        let sent = settle(upload.upload_part(number, self.part.subarray(0, self.filled).into()), "uploading a part").await?;
        self.parts.push(sent);
        // The runtime is done with the buffer once the part is stored: fill it again.
        self.filled = 0;
        Ok(())
    }
}

/// Awaits an R2 call, naming what failed.
async fn settle(call: Result<Promise, JsValue>, what: &str) -> ApiResult<JsValue> {
    let promise = call.map_err(|e| r2_error(what, &e))?;
    JsFuture::from(promise).await.map_err(|e| r2_error(what, &e))
}

fn r2_error(what: &str, e: &JsValue) -> ApiError {
    let cause = e.dyn_ref::<js_sys::Error>().map_or_else(|| format!("{e:?}"), |e| String::from(e.message()));
    ApiError::Internal(format!("R2 multipart upload, {what}: {cause}"))
}
