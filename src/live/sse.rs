//! Server-Sent Events, bridged from the same WebSocket stream the Durable Object serves: the
//! Worker opens the object's socket (replay from `since`, then live) and writes each event as
//! `id: <seq>` + `data: <json>`, with heartbeat comments so proxies keep the response open.
//!
//! Bridging keeps one implementation of replay, ordering and the terminal close (in the
//! object), and the object stays hibernatable: it holds a socket, not a streaming response.

use crate::error::{ApiError, ApiResult};
use futures_channel::mpsc::{unbounded, UnboundedSender};
use futures_util::StreamExt;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen_futures::spawn_local;
use worker::{Delay, Headers, Response, WebSocket, WebsocketEvent};

/// Proxies drop idle responses after 30–100 s; a comment every 15 s keeps the stream alive.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// What an `EventSource` waits before reconnecting (it then sends `Last-Event-ID`).
const RETRY_MS: u32 = 2000;

type Sender = UnboundedSender<Result<Vec<u8>, worker::Error>>;

/// Turns the object's 101 answer into an SSE response that ends when the object closes.
pub fn bridge(upstream: Response) -> ApiResult<Response> {
    let ws = upstream.websocket().ok_or_else(|| ApiError::Internal("the stream object answered without a socket".into()))?;
    ws.accept()?;
    let ws = Rc::new(ws);
    let (tx, rx) = unbounded();
    let _ = tx.unbounded_send(Ok(format!("retry: {RETRY_MS}\n\n").into_bytes()));
    spawn_local(pump(ws.clone(), tx.clone()));
    spawn_local(heartbeat(ws, tx));
    let headers = Headers::new();
    headers.set("content-type", "text/event-stream; charset=utf-8")?;
    headers.set("cache-control", "no-cache, no-transform")?;
    // Tells buffering proxies (nginx) to pass each event through at once.
    headers.set("x-accel-buffering", "no")?;
    Ok(Response::from_stream(rx)?.with_headers(headers))
}

/// One SSE frame for one event; the id is its `seq`, so a reconnecting `EventSource` resumes.
pub fn frame(event_json: &str) -> Option<String> {
    let seq = serde_json::from_str::<serde_json::Value>(event_json).ok()?["seq"].as_u64()?;
    Some(format!("id: {seq}\ndata: {event_json}\n\n"))
}

/// Copies events until the object closes the socket (after the terminal event) or the client
/// goes away, then ends the response.
async fn pump(ws: Rc<WebSocket>, tx: Sender) {
    if let Ok(mut events) = ws.events() {
        while let Some(Ok(WebsocketEvent::Message(message))) = events.next().await {
            let Some(frame) = message.text().as_deref().and_then(frame) else { continue };
            if tx.unbounded_send(Ok(frame.into_bytes())).is_err() {
                break;
            }
        }
    }
    let _ = ws.close(Some(1000), Some("stream ended"));
    tx.close_channel();
}

/// Sends a comment every [`HEARTBEAT`]; when the client has gone it closes the upstream socket
/// (which ends [`pump`]) so the object does not keep a dead subscriber.
async fn heartbeat(ws: Rc<WebSocket>, tx: Sender) {
    loop {
        Delay::from(HEARTBEAT).await;
        if tx.is_closed() {
            return;
        }
        if tx.unbounded_send(Ok(b": ping\n\n".to_vec())).is_err() {
            let _ = ws.close(Some(1000), Some("client gone"));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_carries_the_seq_as_its_id_and_the_event_as_one_data_line() {
        let f = frame(r#"{"seq":7,"type":"step.started"}"#).expect("an event");
        assert_eq!(f, "id: 7\ndata: {\"seq\":7,\"type\":\"step.started\"}\n\n");
    }

    #[test]
    fn text_that_is_not_an_event_is_not_framed() {
        assert_eq!(frame("pong"), None);
        assert_eq!(frame(r#"{"type":"x"}"#), None);
    }
}
