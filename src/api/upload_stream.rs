//! A raw upload of declared length, streamed to R2 as it arrives: each chunk passes through
//! wasm once, feeding the SHA-256 and the first window the format probe reads, on its way to a
//! staging object. Nothing holds the whole body, in wasm or in JS.
//!
//! The staging object is then copied (R2 to R2, a stream the runtime pipes without us) under
//! the original's key with its record as metadata — R2 writes metadata with the object, and the
//! hash is only known once the stream has ended — and deleted.

use super::body::BodyLimit;
use super::error::{ApiError, ApiResult};
use super::upload_body::{Tap, Upload};
use crate::storage::{Held, Images};
use futures_util::StreamExt;
use std::cell::RefCell;
use std::rc::Rc;
use worker::{FixedLengthStream, Request};

/// Streams `req`'s body (`len` bytes, at most `limit`) to `staging`.
pub async fn stage(req: &mut Request, images: &Images, staging: &str, len: u64, limit: &BodyLimit) -> ApiResult<Upload> {
    limit.check_declared(Some(len))?;
    if len == 0 {
        return Err(ApiError::InvalidImage("the body is empty".into()));
    }
    let tap = Rc::new(RefCell::new(Tap::default()));
    let feed = Rc::clone(&tap);
    let chunks = req.stream()?.map(move |chunk| {
        if let Ok(bytes) = &chunk {
            feed.borrow_mut().feed(bytes);
        }
        chunk
    });
    // The runtime refuses a stream that ends early or runs long against its declared length.
    if let Err(e) = images.put_staged(staging, FixedLengthStream::wrap(chunks, len)).await {
        images.discard(staging).await;
        return Err(ApiError::InvalidRequest(format!("the request body did not arrive whole ({len} bytes declared): {e}")));
    }
    let tap = tap.take();
    if tap.seen != len {
        images.discard(staging).await;
        return Err(ApiError::InvalidRequest(format!("the body had {} bytes; Content-Length said {len}", tap.seen)));
    }
    Ok(tap.into_upload(Held::Staged(staging.to_string()), None))
}
