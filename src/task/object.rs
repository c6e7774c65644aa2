//! `TaskObject`, the Durable Object holding one task chain: it stores the task and its event
//! log (SQLite), runs the state machine on every report and alarm, sends the next jobs, keeps
//! its alarm on the earliest deadline (the watchdog) and streams events to WebSocket clients.
//!
//! Its fetch API is internal: the typed calls of [`super::protocol`] (the Worker and the queue
//! consumer make them through [`super::client::TaskClient`]); clients never reach it directly.

use super::dispatch;
use super::events::{Envelope, Event};
use super::model::TaskStatus;
use super::model::{Effects, NewTask, Task, Tick};
use super::protocol::{Call, Created, Expired, Refusal, TaskRequest, TENANT_HEADER};
use super::record::Record;
use super::throttle::{self, ProgressWrites};
use super::{alarm, listing, view};
use crate::clock::{now_iso, now_millis};
use crate::config::Config;
use crate::ids::TenantId;
use crate::live::sockets;
use crate::messages::{ClaimResponse, Completion, CompletionResponse, JobRef, StepProgress};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::rc::Rc;
use worker::*;

/// When the configuration is broken the alarm tries again this much later.
const ALARM_RETRY_MS: f64 = 60_000.0;

const CREATE_EVENTS: &str = "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)";

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

#[durable_object]
pub struct TaskObject {
    state: State,
    env: Env,
    progress: Rc<ProgressWrites>,
    record: Rc<Record>,
}

impl DurableObject for TaskObject {
    fn new(state: State, env: Env) -> Self {
        if let Err(e) = state.storage().sql().exec(CREATE_EVENTS, None) {
            crate::log::error("schema_failed").field("object", "task").field("error", e.to_string()).emit();
        }
        sockets::auto_pong(&state);
        TaskObject { state, env, progress: Default::default(), record: Default::default() }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.path() == "/ws" {
            let tenant = req.headers().get(TENANT_HEADER)?.and_then(|t| TenantId::parse(&t));
            return match tenant {
                Some(tenant) => self.websocket(&req, &tenant).await,
                None => Response::error("a socket needs its tenant", 404),
            };
        }
        let TaskRequest { tenant, call } = crate::objects::read_call(&mut req).await?;
        let tick = match self.tick() {
            Ok(t) => t,
            Err(problems) => return answer::<()>(Err(Refusal::Misconfigured(problems))),
        };
        match call {
            Call::Create(new) => answer(self.create(&tenant, *new, &tick).await?),
            Call::State => answer(self.read(&tenant, |task| Ok(view::public_task(task))).await?),
            Call::Download => answer(self.read(&tenant, view::download).await?),
            Call::Cancel => answer(self.cancel(&tenant, &tick).await?),
            Call::Claim(job) => answer(self.claim(&tenant, job, &tick).await?),
            Call::Complete(done) => answer(self.complete(&tenant, vec![done], &tick).await?),
            Call::CompleteHeld(reports) => answer(self.complete(&tenant, reports, &tick).await?),
            Call::Progress(progress) => answer(self.progress(&tenant, progress, &tick).await?),
            Call::GiveUp(job) => answer(self.give_up(&tenant, job, &tick).await?),
            Call::Expire(now) => answer(self.expire(&tenant, now).await?),
        }
    }

    sockets::socket_callbacks!("task");

    /// The watchdog: re-sends or fails whatever is overdue, then sleeps until the next deadline.
    async fn alarm(&self) -> Result<Response> {
        let tick = match self.tick() {
            Ok(t) => t,
            Err(problems) => {
                crate::log::error("config").field("where", "task alarm").field("problems", &problems).emit();
                self.state.storage().set_alarm(ScheduledTime::from(ALARM_RETRY_MS as i64)).await?;
                return Response::ok("misconfigured; retrying later");
            }
        };
        // Fired, the alarm is unset until the watchdog below sets it again.
        self.record.alarm_is(None);
        // The alarm is the object's own: whichever tenant the task has.
        let Some(mut task) = self.record.load(&self.state.storage()).await? else { return Response::ok("no task") };
        let effects = task.expire(&tick);
        // Always re-index here: the alarm may be firing because an index write had failed (see
        // `alarm`); a success clears that mark.
        self.apply(&task, effects, true).await?;
        Response::ok("checked")
    }
}

/// A call's answer: the value or the refusal, in the body (see [`super::protocol::Refusal`]).
fn answer<T: Serialize>(result: std::result::Result<T, Refusal>) -> Result<Response> {
    Response::from_json(&result)
}

/// What a handler returns: a platform error (`Err`) fails the call itself.
type Answer<T> = Result<std::result::Result<T, Refusal>>;

impl TaskObject {
    fn tick(&self) -> std::result::Result<Tick, Vec<String>> {
        let config = Config::from_env(&self.env)?;
        Ok(Tick { ms: now_millis(), iso: now_iso(), policy: config.step_policy(), jitter: super::jitter::next() })
    }

    /// Loads the task; another tenant's is treated as absent.
    async fn load(&self, tenant: &TenantId) -> Result<Option<Task>> {
        Ok(self.record.load(&self.state.storage()).await?.filter(|t| t.tenant == *tenant))
    }

    /// Answers a read of the tenant's task, making sure an unfinished task has its alarm (after
    /// a restart that lost it, the first read re-arms the watchdog).
    async fn read<T>(&self, tenant: &TenantId, view: impl FnOnce(&Task) -> std::result::Result<T, Refusal>) -> Answer<T> {
        let Some(task) = self.load(tenant).await? else { return Ok(Err(Refusal::NotFound)) };
        alarm::arm_if_missing(&self.record, &self.state.storage(), &task).await?;
        Ok(view(&task))
    }

    async fn create(&self, tenant: &TenantId, new: NewTask, tick: &Tick) -> Answer<Created> {
        if new.tenant != *tenant {
            return Ok(Err(Refusal::NotFound));
        }
        if let Some(existing) = self.record.load(&self.state.storage()).await? {
            // The same Idempotency-Key maps to the same object: the same request gets the same
            // task back, anything else is a conflict.
            let same = existing.tenant == new.tenant && existing.fingerprint.is_some() && existing.fingerprint == new.fingerprint;
            return Ok(match same {
                true => Ok(Created { task: view::public_task(&existing), created: false, inline: None }),
                false => Err(Refusal::Conflict(existing.status)),
            });
        }
        let wants_inline = new.inline;
        let (mut task, mut effects) = Task::new(new, tick);
        let duplicate = Config::from_env(&self.env).is_ok_and(|c| c.faults.duplicate);
        let inline = wants_inline.then(|| task.hand_over_first(&mut effects, tick, duplicate)).flatten();
        self.apply(&task, effects, false).await?;
        Ok(Ok(Created { task: view::public_task(&task), created: true, inline }))
    }

    async fn cancel(&self, tenant: &TenantId, tick: &Tick) -> Answer<Value> {
        let Some(mut task) = self.load(tenant).await? else { return Ok(Err(Refusal::NotFound)) };
        match task.cancel(tick) {
            Ok(effects) => {
                self.apply(&task, effects, false).await?;
                Ok(Ok(view::public_task(&task)))
            }
            Err(status) => Ok(Err(Refusal::Conflict(status))),
        }
    }

    async fn claim(&self, tenant: &TenantId, job: JobRef, tick: &Tick) -> Answer<ClaimResponse> {
        let Some(mut task) = self.load(tenant).await? else { return Ok(Err(Refusal::NotFound)) };
        let (run, effects) = task.claim(job, tick);
        if run.is_some() {
            self.apply(&task, effects, false).await?;
        }
        Ok(Ok(ClaimResponse { run }))
    }

    async fn complete(&self, tenant: &TenantId, reports: Vec<Completion>, tick: &Tick) -> Answer<CompletionResponse> {
        let Some(mut task) = self.load(tenant).await? else { return Ok(Err(Refusal::NotFound)) };
        let before = task.clone();
        let (effects, answer) = task.report_held(reports, tick);
        if task != before {
            self.apply(&task, effects, false).await?;
        }
        Ok(Ok(answer))
    }

    async fn progress(&self, tenant: &TenantId, progress: StepProgress, tick: &Tick) -> Answer<bool> {
        let Some(mut task) = self.load(tenant).await? else { return Ok(Err(Refusal::NotFound)) };
        let effects = task.step_progress(progress, tick);
        let recorded = !effects.is_empty();
        if recorded {
            self.apply(&task, effects, false).await?;
        }
        Ok(Ok(recorded))
    }

    async fn give_up(&self, tenant: &TenantId, job: JobRef, tick: &Tick) -> Answer<TaskStatus> {
        let Some(mut task) = self.load(tenant).await? else { return Ok(Err(Refusal::NotFound)) };
        let before = task.clone();
        let effects = task.give_up(job, tick);
        if task != before {
            self.apply(&task, effects, false).await?;
        }
        Ok(Ok(task.status))
    }

    /// Marks an ended task's outputs expired (the tenant's index shows it once retention has
    /// deleted them); its download answers 410 from now on.
    async fn expire(&self, tenant: &TenantId, now: String) -> Answer<Expired> {
        let Some(mut task) = self.load(tenant).await? else { return Ok(Err(Refusal::NotFound)) };
        if !task.status.is_terminal() {
            return Ok(Err(Refusal::Conflict(task.status)));
        }
        let expired_at = task.expired_at.get_or_insert(now).clone();
        self.record.save(&self.state.storage(), &task).await?;
        Ok(Ok(Expired { outputs: view::output_keys(&task), expired_at }))
    }

    async fn websocket(&self, req: &Request, tenant: &TenantId) -> Result<Response> {
        let Some(task) = self.load(tenant).await? else { return Response::error("no such task", 404) };
        let since = req.url()?.query_pairs().find(|(k, _)| k == "since").and_then(|(_, v)| v.parse::<i64>().ok()).unwrap_or(0);
        let rows: Vec<BodyRow> =
            self.state.storage().sql().exec("SELECT body FROM events WHERE seq > ? ORDER BY seq", vec![since.into()])?.to_array()?;
        let backlog: Vec<String> = rows.into_iter().map(|r| r.body).collect();
        let cap = Config::from_env(&self.env).map(|c| c.max_sockets_per_stream).unwrap_or(1000);
        sockets::accept(&self.state, &backlog, task.status.is_terminal(), cap)
    }

    /// Persists the task, appends and broadcasts the events (gap-free `seq`), re-arms the
    /// watchdog, sends the jobs, updates the tenant's index and, after a terminal event, closes
    /// the sockets. The runtime's output gate holds the broadcasts until the writes are durable.
    ///
    /// The alarm is armed before any network call, so whatever fails after it is recovered: a
    /// failed send leaves its lease queued with a deadline, which the watchdog re-sends
    /// (unclaimed → redispatch), and a failed index write is marked for the alarm to retry.
    async fn apply(&self, task: &Task, effects: Effects, reindex: bool) -> Result<()> {
        // A step's progress need not hold up the job that reported it, nor a new task its 202
        // and first job: those snapshots are written to the index in the background (a later,
        // higher version supersedes them anyway), and the listing shows a new task moments
        // after its 202 (the index writes were the largest item of a task's fixed cost: a build
        // without any was 8–10 ms faster end to end for `thumbnail`, docs/BENCHMARKS.md). Any
        // other change of the task's status (its end, a cancel) is written before the answer.
        let created = effects.events.iter().any(|e| matches!(e, Event::TaskQueued { .. }));
        let in_background =
            !reindex && effects.events.iter().all(|e| e.kind().starts_with("step.") || matches!(e, Event::TaskQueued { .. }));
        let reindex = reindex || effects.events.iter().any(listing::is_visible);
        self.record.save(&self.state.storage(), task).await?;
        let terminal = effects.events.iter().any(|e| e.is_terminal());
        let at = now_iso();
        let (bodies, seq) = self.record.append(&self.state.storage().sql(), effects.events, |seq, event| {
            Ok(serde_json::to_string(&Envelope { seq, task: task.id.clone(), at: at.clone(), event })?)
        })?;
        let subscribers = sockets::Subscribers::of(&self.state);
        for body in &bodies {
            subscribers.send(body);
        }
        let rest = async {
            let storage = self.state.storage();
            alarm::arm(&self.record, &storage, task).await?;
            if let Err(e) = dispatch::send(&self.env, &storage, task, effects.enqueue.clone()).await {
                // Not an error for the caller: the task is stored and its alarm armed.
                let line = crate::log::error("send_failed").tenant(task.tenant.as_str()).task(task.id.as_str());
                line.field("error", e.to_string()).field("recovery", "watchdog re-sends soon").emit();
                dispatch::expedite(&self.record, &storage, &effects.enqueue).await?;
            }
            match (reindex, in_background) {
                (true, true) if created => throttle::write_soon(&self.record, &self.env, storage, task, seq as u64),
                (true, true) => throttle::write_progress(&self.progress, &self.record, &self.env, storage, task, seq as u64),
                (true, false) => {
                    // The alarm was armed while the index was behind: re-arm without the retry.
                    if alarm::index(&self.env, &self.record, &storage, task, seq as u64).await? {
                        alarm::arm(&self.record, &storage, task).await?;
                    }
                }
                (false, _) => {}
            }
            Ok(())
        }
        .await;
        // Closing after the awaits above lets the terminal event go out to every socket before
        // 1,000 close frames (and the close replies they trigger) compete with it: measurably
        // faster fan-out to the last socket (docs/BENCHMARKS.md, live fan-out). Each socket
        // still gets every event before its close, and a socket joining meanwhile is closed by
        // `accept`, which sees the stored terminal status.
        if terminal {
            sockets::close_all(&self.state);
        }
        rest
    }
}
