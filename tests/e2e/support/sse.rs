//! Server-Sent Events side of the harness: open a stream and read its frames (`id:`, `data:`,
//! comments) until the server ends it, or until the caller has seen enough.

use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio::time::{timeout_at, Instant};

/// One parsed SSE frame: the `id:` and the `data:` as JSON.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: Option<String>,
    pub data: Value,
}

/// An open `text/event-stream` response, read frame by frame.
pub struct SseStream {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl SseStream {
    /// Wraps a response, asserting it is a 200 event stream.
    pub fn new(resp: reqwest::Response) -> SseStream {
        assert_eq!(resp.status(), 200, "SSE answer status");
        let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert!(content_type.starts_with("text/event-stream"), "content-type {content_type}");
        SseStream { body: resp.bytes_stream().boxed(), buffer: String::new() }
    }

    /// The next event frame (comments and `retry:` skipped); `None` when the server ended the
    /// stream. Passing `deadline` fails the test.
    pub async fn next_event(&mut self, deadline: Instant) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut data) = (None, None);
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str(v).unwrap_or_else(|e| panic!("SSE data is not JSON ({e}): {v}")));
                    }
                }
                match data {
                    Some(data) => return Some(SseEvent { id, data }),
                    None => continue,
                }
            }
            let Ok(chunk) = timeout_at(deadline, self.body.next()).await else {
                panic!("the SSE stream stalled; buffered: {:?}", self.buffer)
            };
            match chunk {
                Some(Ok(bytes)) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                Some(Err(e)) => panic!("the SSE stream failed: {e}"),
                None => return None,
            }
        }
    }

    /// Every remaining event until the server ends the stream (which it must within `within`).
    pub async fn collect(mut self, within: Duration) -> Vec<SseEvent> {
        let deadline = Instant::now() + within;
        let mut events = Vec::new();
        while let Some(e) = self.next_event(deadline).await {
            events.push(e);
        }
        events
    }
}
