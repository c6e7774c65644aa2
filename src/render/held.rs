//! A rendition's bytes, held in JS memory rather than in wasm's. A render's answer, its edge
//! copy and its derived-store copy are three consumers of the same bytes; with a `Vec` each
//! took its own wasm copy (`to_vec` for the answer and the Cache put, `clone` for the R2 put),
//! so a large rendition (a PNG of a big original: tens of MB) needed three to four times its
//! size of wasm memory, which never shrinks, on top of what the render had planned. Held as
//! one `Uint8Array`, the encoder's output crosses into JS once and is freed in wasm at once;
//! a store hit never enters wasm at all. The store copy goes through `crate::storage::put_js`.
//! The runtime copies a buffer body when it builds a Response from it, so sharing the one
//! array between consumers is safe.

use js_sys::Uint8Array;
use wasm_bindgen_futures::JsFuture;
use worker::{Object, Response, ResponseBody};

/// The encoder's output, moved into JS memory (the wasm copy is freed on return).
pub fn from_wasm(bytes: Vec<u8>) -> Uint8Array {
    Uint8Array::from(bytes.as_slice())
}

/// An R2 object's body, read by the runtime into JS memory.
pub async fn read(obj: &Object) -> worker::Result<Uint8Array> {
    let body = obj.body().ok_or_else(|| worker::Error::RustError("the object has no body".into()))?;
    let ResponseBody::Stream(stream) = body.response_body()? else {
        return Err(worker::Error::RustError("the object's body is not a stream".into()));
    };
    let reader = web_sys::Response::new_with_opt_readable_stream(Some(&stream))?;
    let buffer = JsFuture::from(reader.array_buffer()?).await?;
    Ok(Uint8Array::new(&buffer))
}

/// A 200 response whose body is `bytes` (its length known, so `Content-Length` is sent).
pub fn response(bytes: &Uint8Array) -> worker::Result<Response> {
    Ok(Response::from(web_sys::Response::new_with_opt_buffer_source(Some(bytes))?))
}
