//! Reading an upload without holding it in wasm memory, or whole anywhere. A raw body of
//! declared length streams to R2 as it arrives ([`super::upload_stream`]). A multipart form is
//! parsed as it arrives ([`super::form_parser`]), and its file's bytes, like a chunked body's,
//! go to R2 through [`super::upload_spool`]: a file under one R2 part (5 MiB) is handed over
//! as one JS buffer, a larger one as an R2 multipart upload, a part at a time. On the way every
//! byte passes through wasm once, feeding the SHA-256 and the first [`WINDOW`] the format probe
//! reads.
//!
//! Why: wasm linear memory never shrinks and is capped at 128 MiB (`crate::memory`). Held in
//! wasm, a 50 MB upload took 50 MB (raw) or 100 MB (multipart: the body and the file), so two
//! concurrent uploads aborted the module and every request in flight with it; held in JS
//! (the runtime's form parser), a form still took the body and the file, against the same
//! isolate. Peak per upload now: raw of declared length, a chunk; form or chunked, one part
//! buffer (≤ 5 MiB, ≤ the declared length) in JS plus the part being sent, and a chunk plus
//! a delimiter (or a part's headers, ≤ 8 KiB) in wasm.

use super::body::{self, BodyLimit};
use super::error::{ApiError, ApiResult};
use super::form_parser::{boundary, FormError, FormParser};
use super::upload_spool::Spool;
use crate::storage::{Held, Images};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use worker::Request;

/// How much of the file the format probe reads first.
pub const WINDOW: u32 = 1 << 20;

/// An uploaded file: where it is, its size and digest, and the leading bytes the format probe
/// reads.
pub struct Upload {
    pub held: Held,
    pub len: u64,
    pub name: Option<String>,
    pub sha256: String,
    /// The first [`WINDOW`] bytes (all of a smaller file).
    pub head: Vec<u8>,
}

/// What an upload taps off the file's bytes going by.
#[derive(Default)]
pub struct Tap {
    hasher: Sha256,
    head: Vec<u8>,
    pub seen: u64,
}

impl Tap {
    pub fn feed(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        let room = (WINDOW as usize).saturating_sub(self.head.len());
        self.head.extend_from_slice(&chunk[..room.min(chunk.len())]);
        self.seen += chunk.len() as u64;
    }

    pub fn into_upload(self, held: Held, name: Option<String>) -> Upload {
        Upload { held, len: self.seen, name, sha256: hex::encode(self.hasher.finalize()), head: self.head }
    }
}

/// The uploaded file (the raw body, or the multipart form's `file` field) and the file name
/// the form gave, if any.
pub async fn read(req: &mut Request, limit: u64, images: &Images, staging: &str) -> ApiResult<Upload> {
    let limit = BodyLimit { bytes: limit, what: "uploads", source: "MAX_UPLOAD_BYTES" };
    let declared = req.headers().get("content-length")?.and_then(|l| l.parse::<u64>().ok());
    if let Err(e) = limit.check_declared(declared) {
        return Err(body::refuse(req, &limit, e).await);
    }
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    let mut parser = match content_type.starts_with("multipart/form-data") {
        true => Some(FormParser::new(&boundary(&content_type).map_err(unparsable)?, "file")),
        false => None,
    };
    if let (None, Some(len), Some(_)) = (&parser, declared, req.inner().body()) {
        return super::upload_stream::stage(req, images, staging, len, &limit).await;
    }
    let mut spool = Spool::new(images.bucket(), staging, declared);
    if let Err(e) = pump(req, &limit, parser.as_mut(), &mut spool).await {
        spool.abort().await;
        return Err(e);
    }
    let name = parser.as_ref().and_then(|p| p.file().flatten().map(str::to_string));
    spool.finish(name).await
}

/// Passes the body (a form's file field, or all of it) to `spool`, cut off as soon as it
/// passes the limit (whatever `Content-Length` said).
async fn pump(req: &mut Request, limit: &BodyLimit, mut parser: Option<&mut FormParser>, spool: &mut Spool<'_>) -> ApiResult<()> {
    if req.inner().body().is_some() {
        let mut stream = req.stream()?;
        let (mut seen, mut file) = (0u64, Vec::new());
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| ApiError::InvalidRequest("the request body was interrupted".into()))?;
            seen += chunk.len() as u64;
            if seen > limit.bytes {
                body::discard(stream, limit.drain_budget().saturating_sub(seen)).await;
                return Err(limit.too_large(None));
            }
            match parser.as_deref_mut() {
                Some(form) => {
                    file.clear();
                    form.feed(&chunk, &mut file).map_err(unparsable)?;
                    spool.write(&file).await?;
                }
                None => spool.write(&chunk).await?,
            }
        }
    }
    if let Some(form) = parser {
        form.finish().map_err(unparsable)?;
        if form.file().is_none() {
            return Err(ApiError::InvalidRequest("file: a multipart upload needs a file field named \"file\"".into()));
        }
    }
    Ok(())
}

fn unparsable(e: FormError) -> ApiError {
    ApiError::InvalidRequest(format!("the multipart body cannot be parsed: {e}"))
}
