//! The tenant index's protocol, shared by its client ([`super::client`]) and the object
//! ([`super::object`]): one call enum, a typed answer per call, one error type for callers.
//! The object is named by its tenant, so the tenant is implicit in every call.

use super::backup::{Line, Table};
use super::page::ListQuery;
use super::usage::OverQuota;
use super::{ImageRow, TaskRow};
use crate::ids::{ImageId, TaskId};
use functions::placeholder::Placeholder;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One call into a tenant index (`POST /call`). The feed's WebSocket upgrade is forwarded as
/// a request instead (`GET /feed/ws`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexCall {
    /// Answer: `Result<(), OverQuota>`: refused when the original would pass `quota` (the
    /// tenant's `MAX_STORAGE_BYTES_PER_TENANT`), checked here so that concurrent uploads
    /// cannot both pass. Idempotent (a second put of the same id changes nothing). With
    /// `analysis_wait_ms`, the image owes an analysis, sent again after that long unless settled
    /// ([`super::pending`]).
    PutImage {
        row: ImageRow,
        quota: Option<u64>,
        #[serde(default)]
        analysis_wait_ms: Option<u64>,
    },
    /// Answer: `Result<(), OverQuota>`: admits a task before it is created if its outputs'
    /// planned upper bound `bytes` fits beside the stored bytes and the bounds reserved by
    /// tasks still running, and reserves it until the task ends ([`super::reservations`]).
    /// Idempotent per task id.
    Reserve { task: TaskId, bytes: u64, quota: Option<u64> },
    /// The task's creation failed: releases its reservation unless the task is listed after
    /// all. Answer: `()`.
    ReleaseUnlisted(TaskId),
    /// Answer: [`super::usage::Usage`].
    Usage,
    /// Answer: [`super::page::Page`].
    ListImages(ListQuery),
    /// Answer: `Option<`[`super::ImageUsage`]`>`, `None` when the tenant has no such image.
    ImageUsage(ImageId),
    /// Answer: `()`.
    DeleteImage(ImageId),
    /// Answer: `()`. A snapshot older than the stored one is ignored.
    PutTask(Box<TaskRow>),
    /// Answer: [`super::page::Page`].
    ListTasks(ListQuery),
    /// Answer: `bool`, false when the tenant has no such image (a deleted image is not
    /// re-created). Announced on the feed as `image.analyzed` (once per distinct value).
    SetPlaceholder(ImageId, Placeholder),
    /// The image's analysis ended without a placeholder (it cannot be analysed): nothing is
    /// owed any more. Answer: `()`.
    AnalysisSettled(ImageId),
    /// The Worker could not send the image's analysis job: the alarm sends it soon. Answer: `()`.
    AnalysisSendFailed(ImageId),
    /// Retention: up to `limit` ended tasks last updated before `before` (RFC 3339) and not
    /// expired yet. Answer: `Vec<TaskId>`.
    ExpiryCandidates { before: String, limit: u32 },
    /// Retention: which of `keys` (outputs of `task`) no other live task lists. Answer:
    /// `Vec<String>`.
    UnsharedResults { task: TaskId, keys: Vec<String> },
    /// Retention: the task's outputs are deleted; its row shows `expired_at`. Answer: `()`.
    MarkExpired { task: TaskId, at: String },
    /// Backups: a page of `table`'s rows after `after` (a rowid). Answer: `Vec<(i64, Line)>`.
    Export { table: Table, after: i64, limit: u32 },
    /// Restore: writes backed-up rows (after emptying the index's tables when `wipe`).
    /// Answer: `()`.
    Restore { lines: Vec<Line>, wipe: bool },
    /// Benchmarks only: adds this many synthetic images. Answer: `()`.
    Seed(u32),
    /// Recomputes the usage counters from the index's rows (a one-off backfill for an index
    /// from before usage tracking). Answer: [`super::backfill::Recomputed`].
    RecomputeUsage,
}

impl IndexCall {
    /// Whether the call writes the tenant's data (the object then makes sure the tenant is in
    /// the registry, [`super::registry`]).
    pub fn writes(&self) -> bool {
        matches!(self, IndexCall::PutImage { .. } | IndexCall::PutTask(_) | IndexCall::Restore { .. } | IndexCall::Seed(_))
    }
}

/// What a call into the index can end in, seen from the caller.
#[derive(Debug, Error)]
pub enum IndexError {
    /// The tenant has no such image.
    #[error("no such image")]
    NotFound,
    /// The write would pass the tenant's storage quota.
    #[error("{0}")]
    OverQuota(OverQuota),
    /// The object could not be reached or failed the call (the cause, for the log).
    #[error("tenant index call failed: {0}")]
    Platform(String),
}

impl From<worker::Error> for IndexError {
    fn from(e: worker::Error) -> Self {
        IndexError::Platform(e.to_string())
    }
}
