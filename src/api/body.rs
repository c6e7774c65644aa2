//! Reading a request body without trusting its size: refused by `Content-Length` before a byte
//! is read, and by counting while streaming (a chunked or lying body), so no more than the
//! limit is ever held. Uploads and task requests share it, each with its own [`BodyLimit`].

use super::error::{ApiError, ApiResult};
use futures_util::{Stream, StreamExt};
use worker::Request;

/// A body's size limit and how a 413 names it.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit {
    /// Largest accepted body, in bytes.
    pub bytes: u64,
    /// What is limited, plural, e.g. "uploads".
    pub what: &'static str,
    /// Where the figure comes from, e.g. "MAX_UPLOAD_BYTES".
    pub source: &'static str,
}

impl BodyLimit {
    /// 413 `payload_too_large` giving the limit and, when the client declared it, the size.
    pub fn too_large(&self, declared: Option<u64>) -> ApiError {
        let BodyLimit { bytes, what, source } = self;
        let sent = match declared {
            Some(len) => format!("; this one declares {len} bytes (Content-Length)"),
            None => format!("; this one sent more than {bytes} bytes"),
        };
        ApiError::PayloadTooLarge(format!("{what} are limited to {bytes} bytes ({source}){sent}"))
    }

    /// How much of a refused body, counted from its start, is read before the answer (see
    /// [`discard`]): twice the limit, at least 1 MiB.
    pub fn drain_budget(&self) -> u64 {
        self.bytes.saturating_mul(2).max(1 << 20)
    }

    /// Refuses a declared `Content-Length` over the limit before anything is read.
    pub fn check_declared(&self, declared: Option<u64>) -> ApiResult<()> {
        match declared {
            Some(len) if len > self.bytes => Err(self.too_large(declared)),
            _ => Ok(()),
        }
    }
}

/// The whole body of `req`, at most `limit.bytes` long (no body at all reads as empty).
pub async fn read(req: &mut Request, limit: &BodyLimit) -> ApiResult<Vec<u8>> {
    let declared = req.headers().get("content-length")?.and_then(|l| l.parse::<u64>().ok());
    if let Err(e) = limit.check_declared(declared) {
        return Err(refuse(req, limit, e).await);
    }
    // A request without a body (no `-d`) has no stream to open; it is simply empty.
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let mut stream = req.stream()?;
    match collect(&mut stream, limit, declared).await {
        Err(e @ ApiError::PayloadTooLarge(_)) => {
            discard(stream, limit.drain_budget().saturating_sub(limit.bytes)).await;
            Err(e)
        }
        other => other,
    }
}

/// `refusal`, once what is left of the body (within its budget) has been read and dropped.
pub async fn refuse(req: &mut Request, limit: &BodyLimit, refusal: ApiError) -> ApiError {
    if req.inner().body().is_some() {
        if let Ok(stream) = req.stream() {
            discard(stream, limit.drain_budget()).await;
        }
    }
    refusal
}

/// Reads and drops up to `budget` bytes of a refused body, so that its 413 reaches the client.
///
/// Why: once the answer is sent, workerd closes a connection whose request body is still
/// arriving, and the reset can reach the client before the answer (a Node client sending a
/// 20 MiB chunked body against a 12 MiB limit lost half its 413s that way; reqwest, some).
/// nginx's lingering close drains after answering; here a drain in `wait_until` is cut off
/// with the answer (measured too), so the rest is read before it. Chunks pass through wasm one
/// at a time and are dropped. A body longer than [`BodyLimit::drain_budget`] is answered and
/// cut off, and its client may see the connection reset.
pub async fn discard<S, E>(mut stream: S, budget: u64)
where
    S: Stream<Item = Result<Vec<u8>, E>> + Unpin,
{
    let mut dropped = 0u64;
    while dropped < budget {
        match stream.next().await {
            Some(Ok(chunk)) => dropped += chunk.len() as u64,
            _ => return,
        }
    }
}

/// Gathers chunks until the stream ends, stopping as soon as the count passes the limit: a
/// body that lies about (or omits) its length is cut off there, never buffered whole.
async fn collect<S, E>(mut stream: S, limit: &BodyLimit, declared: Option<u64>) -> ApiResult<Vec<u8>>
where
    S: Stream<Item = Result<Vec<u8>, E>> + Unpin,
{
    // Declared sizes are at most the limit here; an undeclared one starts small and grows.
    let mut body = Vec::with_capacity(usize::try_from(declared.unwrap_or(0)).unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::InvalidRequest("the request body was interrupted".into()))?;
        if (body.len() + chunk.len()) as u64 > limit.bytes {
            // Whatever Content-Length said, it was not the truth: report only the limit.
            return Err(limit.too_large(None));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{stream, FutureExt};

    const LIMIT: BodyLimit = BodyLimit { bytes: 10, what: "things", source: "TEST" };

    /// Collects `chunks` (all ready at once, so the future completes on its first poll).
    fn run(chunks: &[&[u8]], declared: Option<u64>) -> ApiResult<Vec<u8>> {
        let items: Vec<Result<Vec<u8>, ()>> = chunks.iter().map(|c| Ok(c.to_vec())).collect();
        collect(stream::iter(items), &LIMIT, declared).now_or_never().expect("ready streams finish at once")
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_with_both_figures() {
        let e = LIMIT.check_declared(Some(11)).expect_err("over");
        assert_eq!((e.code(), e.status()), ("payload_too_large", 413));
        assert_eq!(e.to_string(), "things are limited to 10 bytes (TEST); this one declares 11 bytes (Content-Length)");
        assert!(LIMIT.check_declared(Some(10)).is_ok() && LIMIT.check_declared(None).is_ok());
    }

    #[test]
    fn a_stream_is_cut_off_as_soon_as_it_passes_the_limit() {
        assert_eq!(run(&[b"12345", b"67890"], None).expect("exactly the limit"), b"1234567890");
        let e = run(&[b"12345", b"678901"], Some(3)).expect_err("a lying Content-Length");
        assert_eq!(e.to_string(), "things are limited to 10 bytes (TEST); this one sent more than 10 bytes");
        assert_eq!(e.code(), "payload_too_large");
    }

    #[test]
    fn the_stream_is_not_read_past_the_chunk_that_crosses_the_limit() {
        let mut polled = 0;
        let chunks = stream::iter(0..).map(|_| {
            polled += 1;
            Ok::<_, ()>(vec![0u8; 4])
        });
        let result = collect(chunks, &LIMIT, None).now_or_never().expect("ready");
        assert!(result.is_err());
        assert_eq!(polled, 3, "4 + 4 fit, the third chunk crosses 10 and reading stops");
    }

    #[test]
    fn a_refused_body_is_read_on_within_its_budget_and_no_further() {
        let mut polled = 0;
        let chunks = stream::iter(0..).map(|_| {
            polled += 1;
            Ok::<_, ()>(vec![0u8; 4])
        });
        discard(chunks, 10).now_or_never().expect("ready");
        assert_eq!(polled, 3, "4 + 4 + 4 reaches the budget of 10");
        let short: Vec<Result<Vec<u8>, ()>> = vec![Ok(vec![0; 4])];
        discard(stream::iter(short), 1 << 20).now_or_never().expect("a body that ends first ends the drain");
    }

    #[test]
    fn an_interrupted_stream_is_a_bad_request() {
        let items: Vec<Result<Vec<u8>, ()>> = vec![Ok(b"ab".to_vec()), Err(())];
        let e = collect(stream::iter(items), &LIMIT, None).now_or_never().expect("ready").expect_err("cut");
        assert_eq!(e.code(), "invalid_request");
    }
}
