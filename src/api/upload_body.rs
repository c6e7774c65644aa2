//! Reading an upload without holding it in wasm memory. A raw body of declared length streams
//! to R2 as it arrives ([`super::upload_stream`]): nothing holds it whole. Otherwise (a
//! multipart form, or a chunked body of unknown length) the body is gathered, size-capped
//! (`MAX_UPLOAD_BYTES`, by `Content-Length` and while streaming), into one JS buffer; a form is
//! parsed by the runtime; the file is hashed and probed through a small wasm window, and handed
//! to R2 as the same JS buffer.
//!
//! Why: wasm linear memory never shrinks and is capped at 128 MiB (`crate::memory`). Held in
//! wasm, a 50 MB upload took 50 MB (raw) or 100 MB (multipart: the body and the file), so two
//! concurrent uploads aborted the module and every request in flight with it. Now the wasm side
//! holds [`WINDOW`] bytes at a time; the JS side holds the body once (a raw body whose length
//! was declared), or twice while it is assembled or parsed (a chunked body; a form's file).

use super::body::BodyLimit;
use super::error::{ApiError, ApiResult};
use crate::storage::{Held, Images};
use futures_util::StreamExt;
use js_sys::Uint8Array;
use sha2::{Digest, Sha256};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use worker::{Headers, Method, Request, RequestInit};

/// How much of the file is in wasm memory at a time while it is hashed (and the most the
/// format probe reads first).
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

/// The uploaded file (the raw body, or the multipart form's `file` field) and the file name
/// the form gave, if any.
pub async fn read(req: &mut Request, limit: u64, images: &Images, staging: &str) -> ApiResult<Upload> {
    let limit = BodyLimit { bytes: limit, what: "uploads", source: "MAX_UPLOAD_BYTES" };
    let declared = req.headers().get("content-length")?.and_then(|l| l.parse::<u64>().ok());
    limit.check_declared(declared)?;
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    let form = content_type.starts_with("multipart/form-data");
    if let (false, Some(len), Some(_)) = (form, declared, req.inner().body()) {
        return super::upload_stream::stage(req, images, staging, len, &limit).await;
    }
    let body = match req.inner().body() {
        Some(_) => gather(req, &limit, declared).await?,
        None => Uint8Array::new_with_length(0),
    };
    let (bytes, name) = match form {
        true => file_field(body, &content_type).await?,
        false => (body, None),
    };
    if bytes.length() == 0 {
        return Err(ApiError::InvalidImage("the body is empty".into()));
    }
    let (sha256, head) = digest(&bytes);
    Ok(Upload { len: u64::from(bytes.length()), held: Held::Js(bytes), name, sha256, head })
}

/// The body in one JS buffer, each chunk passing through wasm once; cut off as soon as it
/// passes the limit (whatever `Content-Length` said).
async fn gather(req: &mut Request, limit: &BodyLimit, declared: Option<u64>) -> ApiResult<Uint8Array> {
    let mut stream = req.stream()?;
    // A declared length (at most the limit, checked above) is filled in place; otherwise the
    // chunks are kept in JS and joined at the end.
    let whole = declared.and_then(|n| u32::try_from(n).ok()).map(Uint8Array::new_with_length);
    let mut chunks = Vec::new();
    let mut at: u32 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::InvalidRequest("the request body was interrupted".into()))?;
        let end = u64::from(at) + chunk.len() as u64;
        if end > limit.bytes {
            return Err(limit.too_large(None));
        }
        match &whole {
            Some(w) if end <= u64::from(w.length()) => w.set(&Uint8Array::from(chunk.as_slice()), at),
            Some(_) => return Err(ApiError::InvalidRequest("the body is longer than its Content-Length".into())),
            None => chunks.push(Uint8Array::from(chunk.as_slice())),
        }
        at = u32::try_from(end).map_err(|_| limit.too_large(None))?;
    }
    Ok(match whole {
        Some(w) => w.subarray(0, at),
        None => join(&chunks, at),
    })
}

fn join(chunks: &[Uint8Array], total: u32) -> Uint8Array {
    let whole = Uint8Array::new_with_length(total);
    let mut at = 0;
    for chunk in chunks {
        whole.set(chunk, at);
        at += chunk.length();
    }
    whole
}

/// The `file` field of a multipart body, parsed by the runtime (in JS memory).
async fn file_field(body: Uint8Array, content_type: &str) -> ApiResult<(Uint8Array, Option<String>)> {
    let headers = Headers::new();
    headers.set("content-type", content_type)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers).with_body(Some(body.into()));
    let form_req = Request::new_with_init("https://upload/", &init)?;
    let unparsable = || ApiError::InvalidRequest("the multipart body cannot be parsed".into());
    let form = JsFuture::from(form_req.inner().form_data().map_err(|_| unparsable())?).await.map_err(|_| unparsable())?;
    let form: web_sys::FormData = form.unchecked_into();
    let Ok(file) = form.get("file").dyn_into::<web_sys::File>() else {
        return Err(ApiError::InvalidRequest("file: a multipart upload needs a file field named \"file\"".into()));
    };
    let name = Some(file.name()).filter(|n| !n.is_empty());
    let buffer = JsFuture::from(file.array_buffer()).await.map_err(|_| unparsable())?;
    let buffer = buffer.dyn_into::<js_sys::ArrayBuffer>().map_err(|_| ApiError::Internal("a form file without bytes".into()))?;
    Ok((Uint8Array::new(&buffer), name))
}

/// SHA-256 of the file, read a window at a time, and its first window.
fn digest(bytes: &Uint8Array) -> (String, Vec<u8>) {
    let mut hasher = Sha256::new();
    let mut head = Vec::new();
    let mut window = vec![0u8; WINDOW.min(bytes.length()) as usize];
    let mut at = 0;
    while at < bytes.length() {
        let end = (at + WINDOW).min(bytes.length());
        let part = &mut window[..(end - at) as usize];
        bytes.subarray(at, end).copy_to(part);
        hasher.update(&*part);
        if at == 0 {
            head = part.to_vec();
        }
        at = end;
    }
    (hex::encode(hasher.finalize()), head)
}
