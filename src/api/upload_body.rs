//! Reading an upload: the size-capped raw body (`super::body`, `MAX_UPLOAD_BYTES`), then the
//! multipart form's `file` field when the body is a form.

use super::body::{self, BodyLimit};
use crate::error::{ApiError, ApiResult};
use worker::{FormEntry, Headers, Method, Request, RequestInit};

/// The uploaded bytes (the raw body, or the multipart form's `file` field) and the file name
/// the form gave, if any.
pub async fn read(req: &mut Request, limit: u64) -> ApiResult<(Vec<u8>, Option<String>)> {
    let limit = BodyLimit { bytes: limit, what: "uploads", source: "MAX_UPLOAD_BYTES" };
    let body = body::read(req, &limit).await?;
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
