//! Calls into a tenant's index object from the Worker and from task objects.

use super::page::{ListQuery, Page};
use super::{ImageRow, ImageUsage, TaskRow};
use crate::bindings::TENANTS;
use crate::error::{ApiError, ApiResult};
use crate::ids::{ImageId, TenantId};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

pub struct TenantIndex {
    stub: Stub,
}

impl TenantIndex {
    /// The index of `tenant` (one object per tenant, named by the tenant id).
    pub fn new(env: &Env, tenant: &TenantId) -> worker::Result<TenantIndex> {
        Ok(TenantIndex { stub: env.durable_object(TENANTS)?.get_by_name(tenant.as_str())? })
    }

    async fn post(&self, path: &str, body: &impl Serialize) -> ApiResult<worker::Response> {
        let body = serde_json::to_string(body).map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let resp = self.stub.fetch_with_request(Request::new_with_init(&format!("https://tenant{path}"), &init)?).await?;
        match resp.status_code() {
            200 => Ok(resp),
            404 => Err(ApiError::NotFound),
            s => Err(ApiError::Internal(format!("tenant index at {path} answered {s}"))),
        }
    }

    async fn json<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> ApiResult<T> {
        Ok(self.post(path, body).await?.json().await?)
    }

    pub async fn put_image(&self, row: &ImageRow) -> ApiResult<()> {
        self.post("/images/put", row).await.map(drop)
    }

    pub async fn list_images(&self, query: &ListQuery) -> ApiResult<Page> {
        self.json("/images/list", query).await
    }

    /// What deleting `image` must remove; `NotFound` if the tenant has no such image.
    pub async fn image_usage(&self, image: &ImageId) -> ApiResult<ImageUsage> {
        self.json("/images/usage", &json!({"id": image})).await
    }

    pub async fn delete_image(&self, image: &ImageId) -> ApiResult<()> {
        self.post("/images/delete", &json!({"id": image})).await.map(drop)
    }

    pub async fn put_task(&self, row: &TaskRow) -> ApiResult<()> {
        self.post("/tasks/put", row).await.map(drop)
    }

    pub async fn list_tasks(&self, query: &ListQuery) -> ApiResult<Page> {
        self.json("/tasks/list", query).await
    }

    /// Opens the tenant's feed socket (replay after `since`, then live); the object answers 101.
    pub async fn websocket(&self, since: u64) -> ApiResult<Response> {
        let headers = Headers::new();
        headers.set("upgrade", "websocket")?;
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers);
        let resp = self.stub.fetch_with_request(Request::new_with_init(&format!("https://tenant/feed/ws?since={since}"), &init)?).await?;
        match resp.status_code() {
            101 => Ok(resp),
            s => Err(ApiError::Internal(format!("tenant feed socket answered {s}"))),
        }
    }

    /// Benchmark only: adds `count` synthetic images.
    pub async fn seed(&self, count: u32) -> ApiResult<()> {
        self.post("/bench/seed", &json!({"count": count})).await.map(drop)
    }
}
