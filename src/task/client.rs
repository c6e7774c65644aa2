//! Calls into a task's Durable Object from the Worker and the queue consumer, in the typed
//! protocol of [`super::protocol`]: a client is bound to one tenant and one task.

use super::model::{NewTask, TaskStatus};
use super::protocol::{Call, Created, Expired, Refusal, TaskError, TaskRequest, TENANT_HEADER};
use super::view::DownloadInfo;
use crate::bindings::TASKS;
use crate::ids::{TaskId, TenantId};
use crate::messages::{ClaimResponse, Completion, CompletionResponse, JobRef, StepProgress};
use serde::de::DeserializeOwned;
use serde_json::Value;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

/// Internal URLs need a host; the object ignores it.
const BASE: &str = "https://task";

pub struct TaskClient {
    stub: Stub,
    tenant: TenantId,
}

impl TaskClient {
    /// The object for `task` (one object per task, named by its id), seen as `tenant`: another
    /// tenant's task answers `NotFound`.
    pub fn new(env: &Env, tenant: &TenantId, task: &TaskId) -> worker::Result<TaskClient> {
        Ok(TaskClient { stub: env.durable_object(TASKS)?.get_by_name(task.as_str())?, tenant: tenant.clone() })
    }

    async fn call<T: DeserializeOwned>(&self, call: Call) -> Result<T, TaskError> {
        let body =
            serde_json::to_string(&TaskRequest { tenant: self.tenant.clone(), call }).map_err(|e| TaskError::Platform(e.to_string()))?;
        let answer = crate::objects::post_json(&self.stub, &format!("{BASE}/call"), &[], body).await?;
        if answer.status != 200 {
            return Err(TaskError::Platform(format!("task object answered {}: {}", answer.status, answer.body)));
        }
        let answer: Result<T, Refusal> = serde_json::from_str(&answer.body).map_err(|e| TaskError::Platform(e.to_string()))?;
        Ok(answer?)
    }

    /// Creates the task; `created` is `false` when the same idempotent request was made before.
    /// `Conflict` when the id is taken by another request.
    pub async fn create(&self, create: NewTask) -> Result<Created, TaskError> {
        self.call(Call::Create(Box::new(create))).await
    }

    /// Where the finished task's download lives; `Conflict(status)` before success.
    pub async fn download(&self) -> Result<DownloadInfo, TaskError> {
        self.call(Call::Download).await
    }

    /// Asks for cancellation; `Conflict(status)` once the task has ended.
    pub async fn cancel(&self) -> Result<Value, TaskError> {
        self.call(Call::Cancel).await
    }

    /// The public task object.
    pub async fn state(&self) -> Result<Value, TaskError> {
        self.call(Call::State).await
    }

    pub async fn claim(&self, job: JobRef) -> Result<ClaimResponse, TaskError> {
        self.call(Call::Claim(job)).await
    }

    pub async fn complete(&self, done: &Completion) -> Result<CompletionResponse, TaskError> {
        self.call(Call::Complete(done.clone())).await
    }

    /// Reports a held report and the one after it in one call (`task::held`).
    pub async fn complete_held(&self, held: &Completion, done: &Completion) -> Result<CompletionResponse, TaskError> {
        self.call(Call::CompleteHeld(vec![held.clone(), done.clone()])).await
    }

    /// Reports one encode of a running step's search; `false` if the object did not record it.
    pub async fn progress(&self, progress: &StepProgress) -> Result<bool, TaskError> {
        self.call(Call::Progress(progress.clone())).await
    }

    /// Retention: marks the ended task's outputs expired (`now`, unless already marked).
    pub async fn expire(&self, now: &str) -> Result<Expired, TaskError> {
        self.call(Call::Expire(now.to_string())).await
    }

    /// Fails a job whose message exhausted the queue's retries.
    pub async fn give_up(&self, job: JobRef) -> Result<TaskStatus, TaskError> {
        self.call(Call::GiveUp(job)).await
    }

    /// Forwards a WebSocket upgrade; the object answers 101 with the socket, or 404.
    pub async fn websocket(&self, since: u64) -> Result<Response, TaskError> {
        let headers = Headers::new();
        headers.set(TENANT_HEADER, self.tenant.as_str())?;
        headers.set("upgrade", "websocket")?;
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers);
        let req = Request::new_with_init(&format!("{BASE}/ws?since={since}"), &init)?;
        let resp = self.stub.fetch_with_request(req).await?;
        match resp.status_code() {
            101 => Ok(resp),
            404 => Err(Refusal::NotFound.into()),
            s => Err(TaskError::Platform(format!("task object websocket answered {s}"))),
        }
    }
}
