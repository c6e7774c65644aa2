//! Calls into a task's Durable Object from the Worker and the queue consumer.

use super::model::NewTask;
use super::object::TENANT_HEADER;
use super::view::DownloadInfo;
use crate::bindings::TASKS;
use crate::error::{ApiError, ApiResult};
use crate::ids::{TaskId, TenantId};
use crate::messages::{ClaimRequest, ClaimResponse, Completion, CompletionResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

/// Internal URLs need a host; the object ignores it.
const BASE: &str = "https://task";

pub struct TaskClient {
    stub: Stub,
}

impl TaskClient {
    /// The object for `task` (one object per task, named by its id).
    pub fn new(env: &Env, task: &TaskId) -> worker::Result<TaskClient> {
        Ok(TaskClient { stub: env.durable_object(TASKS)?.get_by_name(task.as_str())? })
    }

    async fn call(&self, method: Method, path: &str, tenant: Option<&TenantId>, body: Option<String>) -> worker::Result<Response> {
        let headers = Headers::new();
        if let Some(t) = tenant {
            headers.set(TENANT_HEADER, t.as_str())?;
        }
        if body.is_some() {
            headers.set("content-type", "application/json")?;
        }
        let mut init = RequestInit::new();
        init.with_method(method).with_headers(headers).with_body(body.map(Into::into));
        self.stub.fetch_with_request(Request::new_with_init(&format!("{BASE}{path}"), &init)?).await
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        tenant: Option<&TenantId>,
        body: Option<&impl Serialize>,
    ) -> ApiResult<T> {
        let body = body.map(serde_json::to_string).transpose().map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut resp = self.call(method, path, tenant, body).await?;
        match resp.status_code() {
            200 => Ok(resp.json().await?),
            404 => Err(ApiError::NotFound),
            409 => {
                let status: Value = resp.json().await.unwrap_or_default();
                Err(ApiError::Conflict(format!("the task is {}", status["status"].as_str().unwrap_or("unknown"))))
            }
            s => Err(ApiError::Internal(format!("task object at {path} answered {s}: {}", resp.text().await.unwrap_or_default()))),
        }
    }

    /// Creates the task; returns the public task object and whether it is new (`false`: the
    /// same idempotent request was made before). `Conflict` when the id is taken otherwise.
    pub async fn create(&self, create: &NewTask) -> ApiResult<(Value, bool)> {
        let mut answer: Value = self.json(Method::Post, "/create", None, Some(create)).await?;
        Ok((answer["task"].take(), answer["created"] == true))
    }

    /// Where the finished task's download lives; `Conflict(status)` before success.
    pub async fn download(&self, tenant: &TenantId) -> ApiResult<DownloadInfo> {
        self.json(Method::Get, "/download", Some(tenant), None::<&()>).await
    }

    /// Asks for cancellation; `Conflict(status)` once the task has ended.
    pub async fn cancel(&self, tenant: &TenantId) -> ApiResult<Value> {
        self.json(Method::Post, "/cancel", Some(tenant), None::<&()>).await
    }

    /// The public task object, or `NotFound` if absent or another tenant's.
    pub async fn state(&self, tenant: &TenantId) -> ApiResult<Value> {
        self.json(Method::Get, "/state", Some(tenant), None::<&()>).await
    }

    pub async fn claim(&self, claim: &ClaimRequest) -> ApiResult<ClaimResponse> {
        self.json(Method::Post, "/claim", None, Some(claim)).await
    }

    pub async fn complete(&self, done: &Completion) -> ApiResult<CompletionResponse> {
        self.json(Method::Post, "/complete", None, Some(done)).await
    }

    /// Fails a job whose message exhausted the queue's retries.
    pub async fn give_up(&self, step: &ClaimRequest) -> ApiResult<Value> {
        self.json(Method::Post, "/give-up", None, Some(step)).await
    }

    /// Forwards a WebSocket upgrade; the object answers 101 with the socket, or 404.
    pub async fn websocket(&self, tenant: &TenantId, since: u64) -> ApiResult<Response> {
        let headers = Headers::new();
        headers.set(TENANT_HEADER, tenant.as_str())?;
        headers.set("upgrade", "websocket")?;
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers);
        let req = Request::new_with_init(&format!("{BASE}/ws?since={since}"), &init)?;
        let resp = self.stub.fetch_with_request(req).await?;
        match resp.status_code() {
            101 => Ok(resp),
            404 => Err(ApiError::NotFound),
            s => Err(ApiError::Internal(format!("task object websocket answered {s}"))),
        }
    }
}
