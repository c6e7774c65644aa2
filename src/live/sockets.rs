//! WebSocket fan-out on the hibernation API: accept (within a cap), replay from the event log,
//! broadcast, close after a terminal event, answer the client's close.
//!
//! Hibernation means the object may be evicted between events while clients stay connected;
//! nothing here keeps per-socket state in memory, so a re-created object simply finds its
//! sockets again with `get_websockets`.

use worker::{Response, Result, State, WebSocket, WebSocketPair};

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
        pair.server.close(Some(CLOSE_FULL), Some(&format!("too many sockets on this stream (MAX_SOCKETS_PER_STREAM={cap}); retry later")))?;
        return Response::from_websocket(pair.client);
    }
    for body in backlog {
        pair.server.send_with_str(body)?;
    }
    if finished {
        pair.server.close(Some(CLOSE_DONE), Some("finished"))?;
    }
    Response::from_websocket(pair.client)
}

/// Sends one event to every connected socket. A socket that cannot take it is closing anyway;
/// its client resumes with `?since=` and loses nothing.
pub fn broadcast(state: &State, body: &str) {
    for ws in state.get_websockets_with_tag(TAG) {
        let _ = ws.send_with_str(body);
    }
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
