//! The per-tenant index: one Durable Object per tenant (SQLite) listing its images and tasks
//! newest first, so `GET /images` and `GET /tasks` cost O(limit) whatever the tenant holds.
//!
//! R2 stays the source of the bytes; the index is written on every change (upload, delete, a
//! task's progress) and read by the listings and the image delete cascade. Task changes also
//! become the tenant's live feed ([`feed`]) for dashboards.

pub mod backfill;
pub mod backup;
pub mod client;
pub mod directory;
pub mod feed;
pub mod object;
pub mod page;
pub mod pending;
pub mod protocol;
pub mod registry;
pub mod reservations;
pub mod retention;
mod schema;
pub mod usage;

use crate::ids::{ImageId, TaskId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An image as the index keeps it: the public image object plus what the delete cascade needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageRow {
    pub id: ImageId,
    pub sha256: String,
    /// The original's size: what it adds to the tenant's `bytes_stored`.
    #[serde(default)]
    pub bytes: u64,
    pub body: Value,
}

/// A task snapshot; `version` (its last event's seq) orders updates so a late one never
/// overwrites a newer one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRow {
    pub id: TaskId,
    pub status: String,
    pub version: u64,
    pub images: Vec<ImageId>,
    pub body: Value,
    /// What the task cost and stored, counted into the tenant's usage when it ends.
    #[serde(default)]
    pub charge: usage::TaskCharge,
    /// The R2 keys of its outputs (results may be shared with identical tasks: retention
    /// deletes one only when no live task lists it).
    #[serde(default)]
    pub results: Vec<String>,
}

/// What deleting an image must also remove.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageUsage {
    pub sha256: String,
    /// Another image of the tenant has the same bytes: results derived from them stay.
    pub bytes_shared: bool,
    /// Tasks that processed the image (their zips hold its outputs).
    pub tasks: Vec<TaskId>,
}
