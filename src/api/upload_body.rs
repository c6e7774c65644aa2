//! Reading an upload without trusting its size: refused by `Content-Length` before a byte is
//! read, and by counting while streaming (a chunked or lying body), so no more than
//! `MAX_UPLOAD_BYTES` is ever held.

use crate::error::{ApiError, ApiResult};
use futures_util::StreamExt;
use worker::{FormEntry, Headers, Method, Request, RequestInit};

/// The uploaded bytes (the raw body, or the multipart form's `file` field) and the file name
/// the form gave, if any.
pub async fn read(req: &mut Request, limit: u64) -> ApiResult<(Vec<u8>, Option<String>)> {
    let too_large = || ApiError::PayloadTooLarge(format!("uploads are limited to {limit} bytes (MAX_UPLOAD_BYTES)"));
    let declared = req.headers().get("content-length")?.and_then(|l| l.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
    let mut stream = req.stream()?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::InvalidRequest("the upload was interrupted".into()))?;
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    let (bytes, name) = match content_type.starts_with("multipart/form-data") {
        true => file_field(body, &content_type).await?,
        false => (body, None),
    };
    if bytes.is_empty() {
        return Err(ApiError::InvalidImage("the body is empty".into()));
    }
    Ok((bytes, name))
}

/// The `file` field of a multipart body already read (and size-checked) into memory.
async fn file_field(body: Vec<u8>, content_type: &str) -> ApiResult<(Vec<u8>, Option<String>)> {
    let headers = Headers::new();
    headers.set("content-type", content_type)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers).with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    let mut form_req = Request::new_with_init("https://upload/", &init)?;
    let form = form_req.form_data().await.map_err(|_| ApiError::InvalidRequest("the multipart body cannot be parsed".into()))?;
    match form.get("file") {
        Some(FormEntry::File(file)) => {
            let name = Some(file.name()).filter(|n| !n.is_empty());
            Ok((file.bytes().await?, name))
        }
        _ => Err(ApiError::InvalidRequest("file: a multipart upload needs a file field named \"file\"".into())),
    }
}
