//! `TaskObject`, the Durable Object holding one task chain: it stores the task and its event
//! log (SQLite), runs the state machine on every report, enqueues the next steps and streams
//! events to WebSocket clients.
//!
//! Its fetch API is internal (the Worker and the queue consumer call it through
//! [`super::client::TaskClient`]); clients never reach it directly.

use super::events::Envelope;
use super::sockets;
use super::state::{Effects, ImageRef, Task};
use super::view;
use crate::bindings::STEPS_QUEUE;
use crate::clock::now_iso;
use crate::ids::{TaskId, TenantId};
use functions::Chain;
use crate::messages::{ClaimRequest, ClaimResponse, Completion};
use serde::{Deserialize, Serialize};
use worker::*;

/// Storage key of the task record.
const TASK_KEY: &str = "task";
/// Header carrying the caller's tenant on internal requests.
pub const TENANT_HEADER: &str = "x-tenant";

const CREATE_EVENTS: &str = "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)";

#[derive(Deserialize)]
struct SeqRow {
    seq: i64,
}

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

/// The body of `POST /create`: a validated chain over images the caller has checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateTask {
    pub id: TaskId,
    pub tenant: TenantId,
    pub chain: Chain,
    pub images: Vec<ImageRef>,
}

#[durable_object]
pub struct TaskObject {
    state: State,
    env: Env,
}

impl DurableObject for TaskObject {
    fn new(state: State, env: Env) -> Self {
        if let Err(e) = state.storage().sql().exec(CREATE_EVENTS, None) {
            console_error!("task object: cannot create the events table: {e}");
        }
        // `ping` is answered by the runtime itself, so it never wakes a hibernating object.
        if let Ok(pair) = worker_sys::WebSocketRequestResponsePair::new("ping", "pong") {
            state.set_websocket_auto_response(&pair);
        }
        TaskObject { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let tenant = req.headers().get(TENANT_HEADER)?;
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/create") => self.create(req.json().await?).await,
            (Method::Get, "/state") => match self.load(tenant.as_deref()).await? {
                Some(task) => Response::from_json(&view::public_task(&task)),
                None => not_found(),
            },
            (Method::Post, "/claim") => self.claim(req.json().await?).await,
            (Method::Post, "/complete") => self.complete(req.json().await?).await,
            (Method::Post, "/give-up") => self.give_up(req.json().await?).await,
            (Method::Get, "/ws") => self.websocket(&req, tenant.as_deref()).await,
            _ => not_found(),
        }
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> Result<()> {
        // The auto-response answers `ping` while hibernating; this covers an awake object.
        if matches!(&message, WebSocketIncomingMessage::String(s) if s == "ping") {
            ws.send_with_str("pong")?;
        }
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, _reason: String, _was_clean: bool) -> Result<()> {
        sockets::answer_close(&ws, code);
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, error: Error) -> Result<()> {
        console_warn!("task socket error: {error}");
        let _ = ws.close(Some(1011), Some("socket error"));
        Ok(())
    }

    async fn alarm(&self) -> Result<Response> {
        // No alarm is scheduled by this object yet; an unexpected one must not panic.
        Response::ok("nothing to do")
    }
}

fn not_found() -> Result<Response> {
    Ok(Response::from_json(&serde_json::json!({"error": "not_found"}))?.with_status(404))
}

impl TaskObject {
    /// Loads the task; with `tenant`, a task of another tenant is treated as absent.
    async fn load(&self, tenant: Option<&str>) -> Result<Option<Task>> {
        let task: Option<Task> = self.state.storage().get(TASK_KEY).await?;
        Ok(task.filter(|t| tenant.is_none_or(|ten| t.tenant.as_str() == ten)))
    }

    async fn create(&self, create: CreateTask) -> Result<Response> {
        if self.load(None).await?.is_some() {
            return Ok(Response::from_json(&serde_json::json!({"error": "conflict"}))?.with_status(409));
        }
        let (task, effects) = Task::new(create.id, create.tenant, create.chain, create.images, &now_iso());
        self.apply(&task, effects).await?;
        Response::from_json(&view::public_task(&task))
    }

    async fn claim(&self, claim: ClaimRequest) -> Result<Response> {
        let Some(mut task) = self.load(None).await? else { return not_found() };
        let (run, effects) = task.claim(claim.image, claim.step, &now_iso());
        if run.is_some() {
            self.apply(&task, effects).await?;
        }
        Response::from_json(&ClaimResponse { run })
    }

    async fn complete(&self, done: Completion) -> Result<Response> {
        let Some(mut task) = self.load(None).await? else { return not_found() };
        let effects = task.complete(done.image, done.step, done.attempt, done.outcome, &now_iso());
        if !effects.events.is_empty() {
            self.apply(&task, effects).await?;
        }
        Response::from_json(&serde_json::json!({"status": task.status}))
    }

    async fn give_up(&self, claim: ClaimRequest) -> Result<Response> {
        let Some(mut task) = self.load(None).await? else { return not_found() };
        let effects = task.give_up(claim.image, claim.step, &now_iso());
        if !effects.events.is_empty() {
            self.apply(&task, effects).await?;
        }
        Response::from_json(&serde_json::json!({"status": task.status}))
    }

    async fn websocket(&self, req: &Request, tenant: Option<&str>) -> Result<Response> {
        let Some(task) = self.load(tenant).await? else { return not_found() };
        let since = req
            .url()?
            .query_pairs()
            .find(|(k, _)| k == "since")
            .and_then(|(_, v)| v.parse::<i64>().ok())
            .unwrap_or(0);
        let rows: Vec<BodyRow> = self
            .state
            .storage()
            .sql()
            .exec("SELECT body FROM events WHERE seq > ? ORDER BY seq", vec![since.into()])?
            .to_array()?;
        let backlog: Vec<String> = rows.into_iter().map(|r| r.body).collect();
        sockets::accept(&self.state, &backlog, task.status.is_terminal())
    }

    /// Persists the task, appends and broadcasts the events (gap-free `seq`), then enqueues the
    /// next steps. The runtime's output gate holds the broadcasts until the writes are durable.
    async fn apply(&self, task: &Task, effects: Effects) -> Result<()> {
        self.state.storage().put(TASK_KEY, task).await?;
        let sql = self.state.storage().sql();
        let mut seq = sql.exec("SELECT COALESCE(MAX(seq), 0) AS seq FROM events", None)?.one::<SeqRow>()?.seq;
        let at = now_iso();
        let mut terminal = false;
        for event in effects.events {
            seq += 1;
            terminal |= event.is_terminal();
            let envelope = Envelope { seq: seq as u64, task: task.id.clone(), at: at.clone(), event };
            let body = serde_json::to_string(&envelope)?;
            sql.exec("INSERT INTO events (seq, body) VALUES (?, ?)", vec![seq.into(), body.as_str().into()])?;
            sockets::broadcast(&self.state, &body);
        }
        if terminal {
            sockets::close_all(&self.state);
        }
        if !effects.enqueue.is_empty() {
            let queue = self.env.queue(STEPS_QUEUE)?;
            for message in effects.enqueue {
                queue.send(message).await?;
            }
        }
        Ok(())
    }
}
