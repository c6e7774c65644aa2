//! Calls into a tenant's index object from the Worker and from task objects, in the typed
//! protocol of [`super::protocol`].

use super::backfill::Recomputed;
use super::backup::{Line, Table};
use super::page::{ListQuery, Page};
use super::protocol::{IndexCall, IndexError};
use super::registry::TENANT_HEADER;
use super::usage::{OverQuota, Usage};
use super::{ImageRow, ImageUsage, TaskRow};
use crate::bindings::TENANTS;
use crate::ids::{ImageId, TaskId, TenantId};
use functions::placeholder::Placeholder;
use serde::de::DeserializeOwned;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

pub struct TenantIndex {
    stub: Stub,
    tenant: TenantId,
}

impl TenantIndex {
    /// The index of `tenant` (one object per tenant, named by the tenant id).
    pub fn new(env: &Env, tenant: &TenantId) -> worker::Result<TenantIndex> {
        Ok(TenantIndex { stub: env.durable_object(TENANTS)?.get_by_name(tenant.as_str())?, tenant: tenant.clone() })
    }

    async fn call<T: DeserializeOwned>(&self, call: IndexCall) -> Result<T, IndexError> {
        let body = serde_json::to_string(&call).map_err(|e| IndexError::Platform(e.to_string()))?;
        // The object's name, which it cannot read itself: for the registry of tenants.
        let answer = crate::objects::post_json(&self.stub, "https://tenant/call", &[(TENANT_HEADER, self.tenant.as_str())], body).await?;
        match answer.status {
            200 => serde_json::from_str(&answer.body).map_err(|e| IndexError::Platform(e.to_string())),
            s => Err(IndexError::Platform(format!("tenant index answered {s}: {}", answer.body))),
        }
    }

    /// Indexes an uploaded original; `OverQuota` if it would pass `quota`. With
    /// `analysis_wait_ms`, the index also records that the image owes an analysis and re-sends
    /// its job after that long unless it is settled first ([`super::pending`]).
    pub async fn put_image(&self, row: &ImageRow, quota: Option<u64>, analysis_wait_ms: Option<u64>) -> Result<(), IndexError> {
        let call = IndexCall::PutImage { row: row.clone(), quota, analysis_wait_ms };
        self.call::<Result<(), OverQuota>>(call).await?.map_err(IndexError::OverQuota)
    }

    /// Admits a task whose outputs may store up to `bytes`, reserving them until it ends;
    /// `OverQuota` if they would pass `quota` beside what is stored and reserved.
    pub async fn reserve(&self, task: &TaskId, bytes: u64, quota: Option<u64>) -> Result<(), IndexError> {
        let call = IndexCall::Reserve { task: task.clone(), bytes, quota };
        self.call::<Result<(), OverQuota>>(call).await?.map_err(IndexError::OverQuota)
    }

    /// Releases the reservation of a task whose creation failed (kept if it is listed).
    pub async fn release_unlisted(&self, task: &TaskId) -> Result<(), IndexError> {
        self.call(IndexCall::ReleaseUnlisted(task.clone())).await
    }

    pub async fn usage(&self) -> Result<Usage, IndexError> {
        self.call(IndexCall::Usage).await
    }

    pub async fn list_images(&self, query: &ListQuery) -> Result<Page, IndexError> {
        self.call(IndexCall::ListImages(query.clone())).await
    }

    /// What deleting `image` must remove; `NotFound` if the tenant has no such image.
    pub async fn image_usage(&self, image: &ImageId) -> Result<ImageUsage, IndexError> {
        self.call::<Option<ImageUsage>>(IndexCall::ImageUsage(image.clone())).await?.ok_or(IndexError::NotFound)
    }

    pub async fn delete_image(&self, image: &ImageId) -> Result<(), IndexError> {
        self.call(IndexCall::DeleteImage(image.clone())).await
    }

    /// Records an image's placeholder; `false` when the image is gone.
    pub async fn set_placeholder(&self, image: &ImageId, placeholder: &Placeholder) -> Result<bool, IndexError> {
        self.call(IndexCall::SetPlaceholder(image.clone(), placeholder.clone())).await
    }

    /// The image's analysis ended without a placeholder: nothing is owed any more.
    pub async fn settle_analysis(&self, image: &ImageId) -> Result<(), IndexError> {
        self.call(IndexCall::AnalysisSettled(image.clone())).await
    }

    /// The analysis job could not be sent: the index's alarm sends it soon instead.
    pub async fn analysis_send_failed(&self, image: &ImageId) -> Result<(), IndexError> {
        self.call(IndexCall::AnalysisSendFailed(image.clone())).await
    }

    pub async fn put_task(&self, row: &TaskRow) -> Result<(), IndexError> {
        self.call(IndexCall::PutTask(Box::new(row.clone()))).await
    }

    pub async fn list_tasks(&self, query: &ListQuery) -> Result<Page, IndexError> {
        self.call(IndexCall::ListTasks(query.clone())).await
    }

    pub async fn expiry_candidates(&self, before: &str, limit: u32) -> Result<Vec<TaskId>, IndexError> {
        self.call(IndexCall::ExpiryCandidates { before: before.to_string(), limit }).await
    }

    pub async fn unshared_results(&self, task: &TaskId, keys: &[String]) -> Result<Vec<String>, IndexError> {
        self.call(IndexCall::UnsharedResults { task: task.clone(), keys: keys.to_vec() }).await
    }

    pub async fn mark_expired(&self, task: &TaskId, at: &str) -> Result<(), IndexError> {
        self.call(IndexCall::MarkExpired { task: task.clone(), at: at.to_string() }).await
    }

    pub async fn export(&self, table: Table, after: i64, limit: u32) -> Result<Vec<(i64, Line)>, IndexError> {
        self.call(IndexCall::Export { table, after, limit }).await
    }

    /// Writes backed-up rows, first emptying the index when `wipe`.
    pub async fn restore(&self, lines: &[Line], wipe: bool) -> Result<(), IndexError> {
        self.call(IndexCall::Restore { lines: lines.to_vec(), wipe }).await
    }

    /// Opens the tenant's feed socket (replay after `since`, then live); the object answers 101.
    pub async fn websocket(&self, since: u64) -> Result<Response, IndexError> {
        let headers = Headers::new();
        headers.set("upgrade", "websocket")?;
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers);
        let resp = self.stub.fetch_with_request(Request::new_with_init(&format!("https://tenant/feed/ws?since={since}"), &init)?).await?;
        match resp.status_code() {
            101 => Ok(resp),
            s => Err(IndexError::Platform(format!("tenant feed socket answered {s}"))),
        }
    }

    /// Recomputes the usage counters from the index's rows (`POST /admin/usage`).
    pub async fn recompute_usage(&self) -> Result<Recomputed, IndexError> {
        self.call(IndexCall::RecomputeUsage).await
    }

    /// Benchmark only: adds `count` synthetic images.
    pub async fn seed(&self, count: u32) -> Result<(), IndexError> {
        self.call(IndexCall::Seed(count)).await
    }
}
