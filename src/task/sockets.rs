//! The task's WebSocket fan-out on the hibernation API: accept, replay from the event log,
//! broadcast, close after the terminal event.
//!
//! Hibernation means the object may be evicted between events while clients stay connected;
//! nothing here keeps per-socket state in memory, so a re-created object simply finds its
//! sockets again with `get_websockets`.

use worker::{Response, Result, State, WebSocket, WebSocketPair};

/// Tag on every task socket (room for more kinds of socket later).
const TAG: &str = "events";
/// Normal closure: the task ended and every event was sent.
pub const CLOSE_DONE: u16 = 1000;

/// Accepts a new socket, sends it every stored event after `since`, and closes it at once when
/// the task is already over. Replay and acceptance happen without an `await` in between, so no
/// live event can slip between the two.
pub fn accept(state: &State, backlog: &[String], finished: bool) -> Result<Response> {
    let pair = WebSocketPair::new()?;
    state.accept_websocket_with_tags(&pair.server, &[TAG]);
    for body in backlog {
        pair.server.send_with_str(body)?;
    }
    if finished {
        pair.server.close(Some(CLOSE_DONE), Some("task finished"))?;
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
        let _ = ws.close(Some(CLOSE_DONE), Some("task finished"));
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
