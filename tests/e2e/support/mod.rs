//! End-to-end harness: one real `wrangler dev` per test (zero-to-production `spawn_app` style),
//! plus token minting, HTTP/WebSocket helpers and contract-shaped assertions.

pub mod corpus;
mod fixtures;
mod history;
mod outputs;
mod process;
mod receiver;
mod sse;
mod tokens;
mod ws;

pub use fixtures::*;
pub use history::*;
pub use outputs::*;
pub use receiver::Receiver;
pub use sse::{SseEvent, SseStream};
pub use tokens::{jwt, link_query, unix_now};
pub use ws::{collect_events, connect as connect_ws, WsStream};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use process::{DevServer, Vars};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::Error as WsError;

/// Generous upper bound for a small chain to reach a terminal state (queue delivery is ~1 s per
/// step locally; tests run in parallel on few cores).
pub const TASK_DEADLINE: Duration = Duration::from_secs(60);

/// A running Worker on its own port with its own state; dropped, it stops its processes.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub http: reqwest::Client,
    secret: String,
    vars: Vars,
    // Declared before `state`: the server stops before its state directory is removed.
    server: Option<DevServer>,
    state: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    /// A server with extra vars, e.g. `[("FAULT_INJECTION", "transient=2")]`.
    pub async fn spawn_with(vars: &[(&str, &str)]) -> TestApp {
        // Read the secret first: a missing setup should fail fast, before starting any process.
        let secret = dev_var("AUTH_SECRET");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("build the HTTP client");
        let state = tempfile::Builder::new().prefix("studio-state-").tempdir().expect("create a temp dir for the server state");
        let vars: Vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let server = DevServer::start(&http, state.path(), &vars).await;
        let port = server.port;
        TestApp { address: format!("http://127.0.0.1:{port}"), port, http, secret, vars, server: Some(server), state }
    }

    /// Kills the server (its whole process group, SIGKILL, as a crash would) and starts a new
    /// one on the same persisted state; the port may change.
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            server.kill();
        }
        let server = DevServer::start(&self.http, self.state.path(), &self.vars).await;
        self.port = server.port;
        self.address = format!("http://127.0.0.1:{}", server.port);
        self.server = Some(server);
    }

    /// Bytes the local R2 simulator keeps on disk for this server's buckets (objects and
    /// multipart parts): what "nothing stored" is checked against.
    pub fn stored_r2_bytes(&self) -> u64 {
        fn walk(dir: &std::path::Path, in_r2: bool) -> u64 {
            let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
            entries
                .flatten()
                .map(|entry| {
                    let path = entry.path();
                    let r2 = in_r2 || entry.file_name().to_string_lossy().contains("r2");
                    match entry.file_type() {
                        Ok(t) if t.is_dir() => walk(&path, r2),
                        Ok(_) if r2 && path.components().any(|c| c.as_os_str() == "blobs") => entry.metadata().map_or(0, |m| m.len()),
                        _ => 0,
                    }
                })
                .sum()
        }
        walk(self.state.path(), false)
    }

    /// Like [`TestApp::restart`], with these vars instead of the ones it started with.
    pub async fn restart_with(&mut self, vars: &[(&str, &str)]) {
        self.vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.restart().await;
    }

    /// Everything the running server has logged (wrangler's and the Worker's lines).
    pub fn server_log(&self) -> String {
        self.server.as_ref().map(DevServer::log_text).unwrap_or_default()
    }

    /// The server's `AUTH_SECRET` (to forge what only the server should be able to sign).
    pub fn secret(&self) -> &[u8] {
        self.secret.as_bytes()
    }

    /// A request to `path` with a bearer token (`None`: no Authorization header).
    pub fn request(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        with_auth(self.http.request(method, self.url(path)), token)
    }

    /// A valid bearer token for `tenant`, signed with the server's `AUTH_SECRET`.
    pub fn token(&self, tenant: &str) -> String {
        mint_token(tenant, self.secret.as_bytes())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// GET with a bearer token (`None`: no Authorization header at all).
    pub async fn get(&self, token: Option<&str>, path: &str) -> Response {
        send(with_auth(self.http.get(self.url(path)), token)).await
    }

    /// POST /images with a raw body.
    pub async fn upload(&self, token: Option<&str>, body: Vec<u8>, content_type: &str) -> Response {
        let req = self.http.post(self.url("/images")).header("content-type", content_type).body(body);
        send(with_auth(req, token)).await
    }

    /// POST /tasks with a JSON body.
    pub async fn create_task(&self, token: &str, body: &Value) -> Response {
        send(self.http.post(self.url("/tasks")).bearer_auth(token).json(body)).await
    }

    /// Uploads `body` and returns the image object, asserting the 201.
    pub async fn upload_ok(&self, token: &str, body: Vec<u8>, content_type: &str) -> Value {
        json_body(self.upload(Some(token), body, content_type).await, StatusCode::CREATED).await
    }

    /// POST /tasks with extra headers (e.g. Idempotency-Key).
    pub async fn create_task_with(&self, token: &str, body: &Value, headers: &[(&str, &str)]) -> Response {
        let req = headers.iter().fold(self.http.post(self.url("/tasks")).bearer_auth(token).json(body), |r, (k, v)| r.header(*k, *v));
        send(req).await
    }

    /// POST with a bearer token and no body.
    pub async fn post(&self, token: &str, path: &str) -> Response {
        send(self.http.post(self.url(path)).bearer_auth(token)).await
    }

    /// Uploads a PNG under `name` and returns its id.
    pub async fn upload_png(&self, token: &str, name: &str, width: u32, height: u32) -> String {
        let req = self.http.post(self.url(&format!("/images?name={name}"))).bearer_auth(token).header("content-type", "image/png");
        let image = json_body(send(req.body(png_fixture(width, height))).await, StatusCode::CREATED).await;
        image["id"].as_str().expect("image id").to_string()
    }

    /// Creates a task over one image and returns the task object, asserting the 202.
    pub async fn run_chain(&self, token: &str, image: &str, steps: Value) -> Value {
        let task = json_body(self.create_task(token, &json!({"images": [image], "steps": steps})).await, StatusCode::ACCEPTED).await;
        assert!(task["id"].as_str().is_some_and(|id| id.starts_with("task_")), "task id: {task}");
        task
    }

    /// Opens the task's event WebSocket, panicking if the upgrade is refused.
    pub async fn ws(&self, token: &str, task: &str, since: Option<u64>) -> WsStream {
        self.try_ws(token, task, since).await.unwrap_or_else(|e| panic!("WebSocket upgrade for {task} failed: {e}"))
    }

    /// Opens the task's event WebSocket; a refused upgrade is `Err(WsError::Http(response))`.
    pub async fn try_ws(&self, token: &str, task: &str, since: Option<u64>) -> Result<WsStream, WsError> {
        ws::connect(self.port, token, task, since).await
    }

    /// Fires the Cron Trigger `cron` now and waits for the handler to finish (wrangler's
    /// `--test-scheduled` route answers once it has run).
    pub async fn fire_cron(&self, cron: &str) {
        let resp = send(self.http.get(self.url("/__scheduled")).query(&[("cron", cron)])).await;
        assert_eq!(resp.status(), StatusCode::OK, "/__scheduled answered {}", resp.status());
    }

    /// Waits until image `id` has its placeholder: its analysis job (delivered a second after
    /// the upload, decoding the image too) has run.
    pub async fn wait_analysed(&self, token: &str, id: &str) {
        let deadline = Instant::now() + TASK_DEADLINE;
        loop {
            let image = json_body(self.get(Some(token), &format!("/images/{id}")).await, StatusCode::OK).await;
            if !image["placeholder"].is_null() {
                return;
            }
            assert!(Instant::now() < deadline, "{id} was never analysed: {image}");
            // Poll interval inside the deadline loop; the condition is the placeholder above.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls `GET /tasks/{id}` until the task is terminal; `within` passing fails the test.
    pub async fn wait_for_task(&self, token: &str, id: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let task = json_body(self.get(Some(token), &format!("/tasks/{id}")).await, StatusCode::OK).await;
            if matches!(task["status"].as_str(), Some("succeeded" | "failed" | "cancelled")) {
                return task;
            }
            assert!(Instant::now() < deadline, "task {id} not terminal within {within:?}: {task:#}");
            // Short poll interval inside the deadline loop; the condition is the status above.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn with_auth(req: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
    match token {
        Some(t) => req.bearer_auth(t),
        None => req,
    }
}

pub async fn send(req: reqwest::RequestBuilder) -> Response {
    req.send().await.expect("the request reaches the server")
}

/// A JWT HS256 `{"sub": tenant, "exp": now + 1 h}`, built independently of the server's code so
/// the test checks the contract, not the implementation against itself.
pub fn mint_token(tenant: &str, secret: &[u8]) -> String {
    let exp = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs() + 3600;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({"sub": tenant, "exp": exp}).to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(format!("{header}.{claims}").as_bytes());
    format!("{header}.{claims}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// A secret from `<repo>/.dev.vars` (`KEY=value` lines, value optionally double-quoted), as the
/// server reads it.
pub fn dev_var(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/.dev.vars");
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path} ({e}): run the setup script (scripts/setup.sh) first"));
    text.lines()
        .filter_map(|line| line.trim().split_once('='))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim().trim_matches('"').to_string())
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| panic!("no {name} in {path}: run the setup script (scripts/setup.sh) first"))
}

/// Asserts the status and returns the JSON body (the body is printed if either check fails).
pub async fn json_body(resp: Response, expected: StatusCode) -> Value {
    let status = resp.status();
    let url = resp.url().clone();
    let text = resp.text().await.expect("read the response body");
    assert_eq!(status, expected, "{url} answered {status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: body is not JSON ({e}): {text}"))
}

/// Asserts a contract error: status, `x-request-id`, and `{"error":{"code","message","request_id"}}`
/// with the expected code and non-empty message and request id. Returns the `error` object.
pub async fn assert_error(resp: Response, status: StatusCode, code: &str) -> Value {
    let header_id = resp.headers().get("x-request-id").map(|v| v.to_str().unwrap_or_default().to_string());
    let body = json_body(resp, status).await;
    let error = &body["error"];
    assert_eq!(error["code"], code, "error code in {body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "error message in {body}");
    let request_id = error["request_id"].as_str().unwrap_or_default();
    assert!(!request_id.is_empty(), "error.request_id in {body}");
    assert_eq!(header_id.as_deref(), Some(request_id), "x-request-id header matches error.request_id");
    error.clone()
}

/// The tenant feed's socket for `token`'s tenant, replaying from the start.
pub async fn feed_socket(app: &TestApp, token: &str) -> WsStream {
    let listing = json_body(app.get(Some(token), "/tasks").await, StatusCode::OK).await;
    let link = listing["links"]["feed_ws"].as_str().expect("feed_ws link").to_string();
    tokio_tungstenite::connect_async(link).await.expect("the feed link upgrades").0
}
