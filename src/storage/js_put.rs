//! Putting a buffer that lives in JS memory into R2: workers-rs's `put` takes a `Vec` (a wasm
//! copy, in memory that never shrinks), so the binding's own method is called with the
//! `Uint8Array`, and R2 reads the bytes from JS. Uploads held as one JS buffer
//! (`api::upload_spool`) and renditions (`render::held`) are stored this way.

use js_sys::{Object as JsObject, Promise, Reflect, Uint8Array};
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::worker_sys::R2Bucket;
use worker::Bucket;

/// Puts `bytes` under `key` with its type and custom metadata.
pub async fn put_js(
    bucket: &Bucket,
    key: String,
    bytes: &Uint8Array,
    content_type: &str,
    custom: &HashMap<String, String>,
) -> worker::Result<()> {
    let set = |target: &JsObject, name: &str, value: &JsValue| Reflect::set(target, &JsValue::from_str(name), value).map(drop);
    let (http, meta, options) = (JsObject::new(), JsObject::new(), JsObject::new());
    set(&http, "contentType", &JsValue::from_str(content_type))?;
    for (name, value) in custom {
        set(&meta, name, &JsValue::from_str(value))?;
    }
    set(&options, "httpMetadata", &http)?;
    set(&options, "customMetadata", &meta)?;
    let r2: &R2Bucket = bucket.as_ref().unchecked_ref();
    let promise: Promise = r2.put(key, bytes.into(), options.into())?;
    JsFuture::from(promise).await.map(drop).map_err(Into::into)
}
