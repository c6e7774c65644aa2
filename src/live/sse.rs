//! Server-Sent Events, bridged from the same WebSocket stream the Durable Object serves: the
//! Worker opens the object's socket (replay from `since`, then live) and writes each event as
//! `id: <seq>` + `data: <json>`, with heartbeat comments so proxies keep the response open.
//!
//! Bridging keeps one implementation of replay, ordering and the terminal close (in the
//! object), and the object stays hibernatable: it holds a socket, not a streaming response.
//!
//! The bridge holds at most [`BUFFERED_FRAMES`] frames the client has not read yet. A reader
//! slower than the events (or a large replay into a stalled connection) would otherwise make the
//! isolate's memory grow without limit, for one client. When the buffer is full the bridge does
//! not wait and does not drop frames silently: it ends the response with a final comment and
//! closes the upstream socket. `EventSource` then reconnects (after `retry:`) with
//! `Last-Event-ID`, the last `seq` it received, and the object replays from there: nothing is
//! lost, the slow reader only pays a reconnect.

use futures_channel::mpsc::{channel, Sender as ChannelSender};
use futures_util::StreamExt;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen_futures::spawn_local;
use worker::{Delay, Headers, Response, WebSocket, WebsocketEvent};

/// Proxies drop idle responses after 30–100 s; a comment every 15 s keeps the stream alive.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// What an `EventSource` waits before reconnecting (it then sends `Last-Event-ID`).
const RETRY_MS: u32 = 2000;

/// Frames waiting for a slow reader before the stream is ended (see the module doc). Events are
/// JSON of well under 1 KiB (heartbeats a few bytes), so this is about 1 MiB per stream at
/// worst; it is far above what a reader that keeps up ever has waiting, and a replay larger than
/// it into a stalled connection costs one reconnect per this many events.
pub const BUFFERED_FRAMES: usize = 1024;
/// The last thing a reader that fell behind receives before the response ends.
const BEHIND: &[u8] = b": behind, reconnect with Last-Event-ID\n\n";

type Chunk = Result<Vec<u8>, worker::Error>;
type Sender = ChannelSender<Chunk>;

/// What became of a frame offered to the client.
#[derive(Debug, PartialEq, Eq)]
enum Sent {
    Queued,
    /// The buffer is full: the reader is behind.
    Behind,
    /// The response is gone (the client left, or the stream already ended).
    Gone,
}

/// Offers one frame without waiting; never grows the buffer beyond its bound.
fn offer(tx: &mut Sender, bytes: Vec<u8>) -> Sent {
    match tx.try_send(Ok(bytes)) {
        Ok(()) => Sent::Queued,
        Err(e) if e.is_full() => Sent::Behind,
        Err(_) => Sent::Gone,
    }
}

/// Ends the stream of a reader that fell behind: the frames already queued, then [`BEHIND`].
/// A fresh clone of the sender has a slot of its own (the channel gives each sender one beyond
/// the buffer), so the comment fits even though the buffer is full.
fn end_behind(tx: &mut Sender) {
    let _ = tx.clone().try_send(Ok(BEHIND.to_vec()));
    tx.close_channel();
}

/// Turns the object's 101 answer into an SSE response that ends when the object closes.
pub fn bridge(upstream: Response) -> worker::Result<Response> {
    let ws = upstream.websocket().ok_or_else(|| worker::Error::RustError("the stream object answered without a socket".into()))?;
    ws.accept()?;
    let ws = Rc::new(ws);
    let (mut tx, rx) = channel(BUFFERED_FRAMES);
    let _ = offer(&mut tx, format!("retry: {RETRY_MS}\n\n").into_bytes());
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

/// Copies events until the object closes the socket (after the terminal event), the client
/// goes away, or the client falls [`BUFFERED_FRAMES`] behind; then ends the response.
async fn pump(ws: Rc<WebSocket>, mut tx: Sender) {
    if let Ok(mut events) = ws.events() {
        while let Some(Ok(WebsocketEvent::Message(message))) = events.next().await {
            let Some(frame) = message.text().as_deref().and_then(frame) else { continue };
            match offer(&mut tx, frame.into_bytes()) {
                Sent::Queued => {}
                Sent::Behind => {
                    end_behind(&mut tx);
                    break;
                }
                Sent::Gone => break,
            }
        }
    }
    let _ = ws.close(Some(1000), Some("stream ended"));
    tx.close_channel();
}

/// Sends a comment every [`HEARTBEAT`]; when the client has gone it closes the upstream socket
/// (which ends [`pump`]) so the object does not keep a dead subscriber.
async fn heartbeat(ws: Rc<WebSocket>, mut tx: Sender) {
    loop {
        Delay::from(HEARTBEAT).await;
        if tx.is_closed() {
            return;
        }
        // A full buffer is not idle: the ping is not needed, and the pump ends the stream.
        if offer(&mut tx, b": ping\n\n".to_vec()) == Sent::Gone {
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

    use futures_channel::mpsc::TryRecvError;

    /// What the reader can take now, in order, and whether the stream has ended.
    fn drain(rx: &mut futures_channel::mpsc::Receiver<Chunk>) -> (Vec<Vec<u8>>, bool) {
        let mut got = Vec::new();
        loop {
            match rx.try_recv() {
                Ok(Ok(bytes)) => got.push(bytes),
                Ok(Err(e)) => panic!("unexpected error chunk {e}"),
                Err(TryRecvError::Closed) => return (got, true),
                Err(TryRecvError::Empty) => return (got, false),
            }
        }
    }

    #[test]
    fn a_reader_that_falls_behind_gets_what_was_queued_then_a_final_comment_and_the_end() {
        let (mut tx, mut rx) = channel::<Chunk>(4);
        let mut queued = 0;
        while offer(&mut tx, format!("id: {queued}\n\n").into_bytes()) == Sent::Queued {
            queued += 1;
            assert!(queued <= 4 + 1, "the buffer never grows past its bound (one extra slot per sender)");
        }
        end_behind(&mut tx);
        let (got, ended) = drain(&mut rx);
        assert!(ended, "the response ends, so EventSource reconnects");
        assert_eq!(got.len(), queued + 1);
        assert_eq!(got.last().map(Vec::as_slice), Some(BEHIND));
        assert!(got[..queued].iter().enumerate().all(|(i, f)| *f == format!("id: {i}\n\n").into_bytes()), "in order, none dropped");
    }

    #[test]
    fn a_reader_that_keeps_up_is_never_cut_off() {
        let (mut tx, mut rx) = channel::<Chunk>(4);
        for i in 0..100 {
            assert_eq!(offer(&mut tx, format!("id: {i}\n\n").into_bytes()), Sent::Queued);
            assert_eq!(drain(&mut rx).0.len(), 1);
        }
    }

    #[test]
    fn a_reader_that_left_is_gone_not_behind() {
        let (mut tx, rx) = channel::<Chunk>(4);
        drop(rx);
        assert_eq!(offer(&mut tx, b"id: 1\n\n".to_vec()), Sent::Gone);
    }

    #[test]
    fn text_that_is_not_an_event_is_not_framed() {
        assert_eq!(frame("pong"), None);
        assert_eq!(frame(r#"{"type":"x"}"#), None);
    }
}
