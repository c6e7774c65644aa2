//! One call to a Durable Object: a POST of a JSON body, the answer's status and its body read
//! by the runtime in one piece; and, on the object's side, the call's body read the same way.
//!
//! Why not `worker::Response::text`: for an object's answer (a stream) it reads the body chunk
//! by chunk through a stream reader, each chunk a promise and a hop between JS and wasm; the
//! runtime's own `text()` reads the same bytes with one promise. A CPU profile of `thumbnail`
//! tasks under `wrangler dev` put ~5 % of the isolate's busy time in those reads (create, the
//! limiter, each step's report, the index writes). End to end an A/B on two servers showed no
//! difference beyond noise (20 tasks a side: `thumbnail` −4.6 and 0 ms, `avatar` +2.7 ms), so
//! what it saves is CPU time, not latency on this machine. It is also the one place the three
//! object clients (task, tenant index, rate limiter) make their call.

use serde::de::DeserializeOwned;
use wasm_bindgen_futures::JsFuture;
use worker::{Headers, Method, Request, RequestInit, Stub};

/// An object's answer: its status and its whole body.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// POSTs `body` (JSON) to `url` on `stub`, with `headers`; the answer, read whole.
pub async fn post_json(stub: &Stub, url: &str, headers: &[(&str, &str)], body: String) -> worker::Result<Answer> {
    let set = Headers::new();
    set.set("content-type", "application/json")?;
    for (name, value) in headers {
        set.set(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(set).with_body(Some(body.into()));
    let resp = stub.fetch_with_request(Request::new_with_init(url, &init)?).await?;
    let status = resp.status_code();
    let js: web_sys::Response = resp.into();
    let text = JsFuture::from(js.text()?).await?;
    Ok(Answer { status, body: text.as_string().unwrap_or_default() })
}

/// The JSON body of a call an object received, read as text and parsed here. Why not
/// `Request::json`: it parses in JS and then converts the value field by field across the
/// bridge (serde_wasm_bindgen), which for a task's creation (chain, images, policy) costs more
/// than the parse itself.
pub async fn read_call<T: DeserializeOwned>(req: &mut Request) -> worker::Result<T> {
    Ok(serde_json::from_str(&req.text().await?)?)
}
