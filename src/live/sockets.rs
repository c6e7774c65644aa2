//! WebSocket fan-out on the hibernation API: accept (within a cap), replay from the event log,
//! broadcast, close after a terminal event, answer the client's close.
//!
//! Hibernation means the object may be evicted between events while clients stay connected;
//! nothing here keeps per-socket state in memory, so a re-created object simply finds its
//! sockets again with `get_websockets`.

use js_sys::JsString;
use wasm_bindgen::prelude::*;
use worker::{web_sys, Error, Response, Result, State, WebSocket, WebSocketIncomingMessage, WebSocketPair};

#[wasm_bindgen]
extern "C" {
    /// The runtime's WebSocket, seen only for `send(string)`.
    type JsSocket;
    /// `WebSocket.send` with a JS string: `send_with_str` would copy and decode the body out of
    /// wasm memory once per socket, this takes one string made once per event.
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send(this: &JsSocket, data: &JsString) -> std::result::Result<(), JsValue>;
}

/// Tag on every event socket (room for more kinds of socket later).
const TAG: &str = "events";
/// Normal closure: the stream ended and every event was sent.
pub const CLOSE_DONE: u16 = 1000;
/// "Try again later": the object already holds its cap of sockets.
pub const CLOSE_FULL: u16 = 1013;

/// Accepts a new socket, sends it every stored event after `since`, and closes it at once when
/// the stream is already over. Replay and acceptance happen without an `await` in between, so
/// no live event can slip between the two. Beyond `cap` open sockets the new one is closed at
/// once with 1013 and a reason naming the limit.
pub fn accept(state: &State, backlog: &[String], finished: bool, cap: usize) -> Result<Response> {
    let pair = WebSocketPair::new()?;
    let open = state.get_websockets_with_tag(TAG).len();
    state.accept_websocket_with_tags(&pair.server, &[TAG]);
    if open >= cap {
        pair.server
            .close(Some(CLOSE_FULL), Some(&format!("too many sockets on this stream (MAX_SOCKETS_PER_STREAM={cap}); retry later")))?;
        return uncompressed(Response::from_websocket(pair.client)?);
    }
    for body in backlog {
        pair.server.send_with_str(body)?;
    }
    if finished {
        pair.server.close(Some(CLOSE_DONE), Some("finished"))?;
    }
    uncompressed(Response::from_websocket(pair.client)?)
}

/// Declines permessage-deflate (an empty `Sec-WebSocket-Extensions` tells the runtime so).
/// Events are a few hundred bytes; compressing each one once per socket was the fan-out's main
/// CPU cost on both ends, and every compressed socket holds its own zlib state.
fn uncompressed(mut resp: Response) -> Result<Response> {
    resp.headers_mut().set("Sec-WebSocket-Extensions", "")?;
    Ok(resp)
}

/// The stream's sockets, listed once for a run of events sent without an `await` in between
/// (no socket can join or leave the list meanwhile), instead of once per event.
pub struct Subscribers(Vec<WebSocket>);

impl Subscribers {
    pub fn of(state: &State) -> Self {
        Subscribers(state.get_websockets_with_tag(TAG))
    }

    /// Sends one event to every socket; the body crosses from wasm to JS once, not per socket.
    /// A socket that cannot take it is closing anyway; its client resumes with `?since=` and
    /// loses nothing.
    pub fn send(&self, body: &str) {
        let body = JsString::from(body);
        for ws in &self.0 {
            let _ = AsRef::<web_sys::WebSocket>::as_ref(ws).unchecked_ref::<JsSocket>().send(&body);
        }
    }
}

/// Sends one event to every connected socket (see [`Subscribers::send`]).
pub fn broadcast(state: &State, body: &str) {
    Subscribers::of(state).send(body);
}

/// Closes every socket after the terminal event.
pub fn close_all(state: &State) {
    for ws in state.get_websockets_with_tag(TAG) {
        let _ = ws.close(Some(CLOSE_DONE), Some("finished"));
    }
}

/// Answers the client's close so it sees a clean close code instead of 1006.
pub fn answer_close(ws: &WebSocket, code: usize) {
    // 1005/1006/1015 are reserved and may not be sent; reply with a normal closure instead.
    let code = match code {
        1000..=1003 | 1007..=1014 | 3000..=4999 => code as u16,
        _ => CLOSE_DONE,
    };
    let _ = ws.close(Some(code), Some("closing"));
}

/// Lets the runtime answer `ping` with `pong` itself, so a ping never wakes a hibernating object.
pub fn auto_pong(state: &State) {
    if let Ok(pair) = worker::worker_sys::WebSocketRequestResponsePair::new("ping", "pong") {
        state.set_websocket_auto_response(&pair);
    }
}

/// A client's message: the auto-response answers `ping` while the object hibernates; this
/// covers an awake one. Nothing else is expected from clients.
pub fn on_message(ws: &WebSocket, message: &WebSocketIncomingMessage) -> Result<()> {
    if matches!(message, WebSocketIncomingMessage::String(s) if s == "ping") {
        ws.send_with_str("pong")?;
    }
    Ok(())
}

/// A socket error: logged (naming the `stream`) and the socket closed with 1011.
pub fn on_error(ws: &WebSocket, stream: &str, error: &Error) {
    crate::log::warn("socket_error").field("stream", stream).field("error", error.to_string()).emit();
    let _ = ws.close(Some(1011), Some("socket error"));
}

/// The three socket callbacks of a Durable Object that streams over [`accept`]ed sockets: the
/// same for every stream, so the task and tenant objects expand this inside their
/// `impl DurableObject` (the trait wants them there) instead of each writing them out. The
/// literal names the stream in error logs.
macro_rules! socket_callbacks {
    ($stream:literal) => {
        async fn websocket_message(&self, ws: worker::WebSocket, message: worker::WebSocketIncomingMessage) -> worker::Result<()> {
            $crate::live::sockets::on_message(&ws, &message)
        }

        async fn websocket_close(&self, ws: worker::WebSocket, code: usize, _reason: String, _was_clean: bool) -> worker::Result<()> {
            $crate::live::sockets::answer_close(&ws, code);
            Ok(())
        }

        async fn websocket_error(&self, ws: worker::WebSocket, error: worker::Error) -> worker::Result<()> {
            $crate::live::sockets::on_error(&ws, $stream, &error);
            Ok(())
        }
    };
}
pub(crate) use socket_callbacks;
