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
    let staged = images.put_staged(staging, FixedLengthStream::wrap(chunks, len)).await;
    let tap = tap.take();
    if let Some(refused) = unfinished(tap.seen, len, staged.err()) {
        images.discard(staging).await;
        return Err(refused);
    }
    Ok(tap.into_upload(Held::Staged(staging.to_string()), None))
}

/// Why a staged body is refused: one that was not `len` bytes is the client's (400, with the
/// counts); a whole body R2 failed to store is ours (500: the runtime's text is only logged,
/// it names internals and changes between versions).
fn unfinished(seen: u64, len: u64, failed: Option<worker::Error>) -> Option<ApiError> {
    if seen != len {
        return Some(ApiError::InvalidRequest(format!("the body had {seen} bytes; Content-Length said {len}")));
    }
    failed.map(|e| ApiError::Internal(format!("staging the upload in R2: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAUSE: &str = "R2 put failed: internal error 10001 (bucket images-prod)";

    #[test]
    fn a_body_cut_short_is_the_clients_error_without_the_runtime_text() {
        let refused = unfinished(10, 4096, Some(worker::Error::RustError(CAUSE.into()))).expect("refused");
        assert_eq!((refused.code(), refused.status()), ("invalid_request", 400));
        assert_eq!(refused.public_message(), "the body had 10 bytes; Content-Length said 4096");
    }

    #[test]
    fn a_whole_body_that_storage_failed_is_ours_and_its_cause_stays_in_the_log() {
        let refused = unfinished(4096, 4096, Some(worker::Error::RustError(CAUSE.into()))).expect("refused");
        assert_eq!((refused.code(), refused.status()), ("internal", 500));
        assert!(!refused.public_message().contains("10001") && !refused.public_message().contains("images-prod"));
        assert!(matches!(refused, ApiError::Internal(cause) if cause.contains(CAUSE)));
    }

    #[test]
    fn a_whole_stored_body_is_kept() {
        assert!(unfinished(4096, 4096, None).is_none());
    }
}
