//! WebSocket side of the harness: connect to a task's event stream and read it until the server
//! closes it (or a deadline fails the test).

use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio::time::{timeout_at, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header::AUTHORIZATION, HeaderValue};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type WsStream = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a WebSocket handshake may take before the test fails.
const CONNECT_DEADLINE: Duration = Duration::from_secs(30);

/// Opens `ws://127.0.0.1:<port>/tasks/{task}/ws[?since=N]` with a bearer token; the upgrade's
/// refusal (e.g. 404 for another tenant's task) comes back as `Err(WsError::Http(response))`.
pub async fn connect(port: u16, token: &str, task: &str, since: Option<u64>) -> Result<WsStream, WsError> {
    let query = since.map(|n| format!("?since={n}")).unwrap_or_default();
    let mut req = format!("ws://127.0.0.1:{port}/tasks/{task}/ws{query}").into_client_request()?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).expect("a token is a valid header value");
    req.headers_mut().insert(AUTHORIZATION, bearer);
    match tokio::time::timeout(CONNECT_DEADLINE, tokio_tungstenite::connect_async(req)).await {
        Ok(result) => result.map(|(ws, _response)| ws),
        Err(_) => panic!("the WebSocket handshake for {task} took longer than {CONNECT_DEADLINE:?}"),
    }
}

/// Reads text frames as JSON events until the server closes the socket. Returns the events and
/// the close code (None if the connection ended without a close frame). Reaching `within` is a
/// test failure, not an end condition: the server must close after the terminal event.
pub async fn collect_events(mut ws: WsStream, within: Duration) -> (Vec<Value>, Option<u16>) {
    let deadline = Instant::now() + within;
    let mut events = Vec::new();
    loop {
        let Ok(next) = timeout_at(deadline, ws.next()).await else {
            panic!("the server did not close the event stream within {within:?}; events so far: {events:#?}");
        };
        match next {
            Some(Ok(Message::Text(text))) => {
                let event = serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("event is not JSON ({e}): {text}"));
                events.push(event);
            }
            Some(Ok(Message::Close(frame))) => return (events, frame.map(|f| u16::from(f.code))),
            // Pings are answered by tungstenite itself; pongs and binary frames carry no events.
            Some(Ok(_)) => {}
            Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) | None => return (events, None),
            Some(Err(e)) => panic!("the event stream failed ({e}); events so far: {events:#?}"),
        }
    }
}
