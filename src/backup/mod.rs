//! Backups: every tenant's index (images, tasks and what the listings, usage and retention
//! keep beside them) as NDJSON in the `BACKUPS` bucket under `backups/{id}/`, and a copy of the
//! bytes of every distinct original under `blobs/{sha256}` (by content hash: two images with the
//! same bytes, of one tenant or two, are copied once), with each image's metadata on an empty
//! `originals/{tenant}/{image}` (written once: originals never change under their key). `POST /admin/backups` and the backup cron run [`run`]; [`restore`] rebuilds one
//! tenant from one backup. Why originals are copied, and the procedure: docs/OPERATIONS.md.

mod keys;
mod ndjson;
mod restore;
mod upload;

pub use restore::restore;

use crate::bindings::{BACKUPS_BUCKET, IMAGES_BUCKET};
use crate::ids::TenantId;
use crate::tenant::backup::{Line, TABLES};
use crate::tenant::client::TenantIndex;
use crate::tenant::directory;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use thiserror::Error;
use upload::IndexWriter;
use worker::{Bucket, Data, Env, HttpMetadata, ResponseBody};

/// Rows read from an index per call.
const PAGE: u32 = 1000;

#[derive(Debug, Error)]
pub enum BackupError {
    /// No such backup, or the tenant is not in it.
    #[error("{0}")]
    NotFound(String),
    #[error("backup: {0}")]
    Platform(String),
}

impl From<worker::Error> for BackupError {
    fn from(e: worker::Error) -> Self {
        BackupError::Platform(e.to_string())
    }
}

impl From<crate::tenant::protocol::IndexError> for BackupError {
    fn from(e: crate::tenant::protocol::IndexError) -> Self {
        BackupError::Platform(e.to_string())
    }
}

impl From<ndjson::LineTooLong> for BackupError {
    fn from(e: ndjson::LineTooLong) -> Self {
        BackupError::Platform(e.to_string())
    }
}

impl From<serde_json::Error> for BackupError {
    fn from(e: serde_json::Error) -> Self {
        BackupError::Platform(e.to_string())
    }
}

/// One backup's manifest (`backups/{id}/manifest.json`), also what `GET /admin/backups` lists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub created_at: String,
    pub tenants: Vec<TenantEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TenantEntry {
    pub tenant: TenantId,
    pub images: u64,
    pub tasks: u64,
    /// The NDJSON's size.
    pub bytes: u64,
    /// Originals whose bytes this run copied: one per content not backed up before (the
    /// others' were copied by an earlier run, or have the same bytes as one that was).
    pub originals_copied: u64,
}

/// Takes a backup of every tenant as of `now_ms`; its id is that moment (`2026-11-30T01-02-03.004Z`).
pub async fn run(env: &Env, now_ms: u64) -> Result<Manifest, BackupError> {
    let (images, backups) = (env.bucket(IMAGES_BUCKET)?, env.bucket(BACKUPS_BUCKET)?);
    let created_at = String::from(js_sys::Date::new(&(now_ms as f64).into()).to_iso_string());
    let id = created_at.replace(':', "-");
    let mut tenants = Vec::new();
    for tenant in directory::tenants(&images).await? {
        tenants.push(back_up_tenant(env, &images, &backups, &id, &tenant).await?);
    }
    let manifest = Manifest { id: id.clone(), created_at, tenants };
    backups.put(keys::manifest(&id), serde_json::to_vec(&manifest)?).execute().await?;
    Ok(manifest)
}

async fn back_up_tenant(env: &Env, images: &Bucket, backups: &Bucket, id: &str, tenant: &TenantId) -> Result<TenantEntry, BackupError> {
    // Streamed out a page at a time: the index grows without bound (task rows are kept), the
    // isolate's memory does not.
    let mut out = IndexWriter::new(backups, keys::index(id, tenant));
    match export_tenant(env, images, backups, tenant, &mut out).await {
        Ok(mut entry) => {
            entry.bytes = out.finish().await?;
            Ok(entry)
        }
        Err(e) => {
            out.abort().await;
            Err(e)
        }
    }
}

/// Writes every row of the tenant's index to `out`, copying each image's original on the way.
async fn export_tenant(
    env: &Env,
    images: &Bucket,
    backups: &Bucket,
    tenant: &TenantId,
    out: &mut IndexWriter<'_>,
) -> Result<TenantEntry, BackupError> {
    let index = TenantIndex::new(env, tenant)?;
    let mut entry = TenantEntry { tenant: tenant.clone(), images: 0, tasks: 0, bytes: 0, originals_copied: 0 };
    for table in TABLES {
        let mut after = 0;
        loop {
            let page = index.export(table, after, PAGE).await?;
            for (rowid, line) in &page {
                after = *rowid;
                match line {
                    Line::Images { id: image, sha256, .. } => {
                        entry.images += 1;
                        entry.originals_copied += u64::from(copy_original(images, backups, tenant, image, sha256).await?);
                    }
                    Line::Tasks { .. } => entry.tasks += 1,
                    _ => {}
                }
                let mut bytes = serde_json::to_vec(line)?;
                bytes.push(b'\n');
                out.write(&bytes).await?;
            }
            if page.len() < PAGE as usize {
                break;
            }
        }
    }
    Ok(entry)
}

/// Backs up an original once: its bytes under its content hash unless some image's are there
/// already, then its metadata on the image's own marker (written last: a marker means the
/// bytes are there). `true` when it copied bytes now.
async fn copy_original(images: &Bucket, backups: &Bucket, tenant: &TenantId, image: &str, sha256: &str) -> Result<bool, BackupError> {
    let marker = keys::original(tenant, image);
    let blob = keys::blob(sha256).ok_or_else(|| BackupError::Platform(format!("{image}: bad content hash {sha256:?}")))?;
    if backups.head(marker.clone()).await?.is_some() {
        return Ok(false);
    }
    let from = format!("images/{tenant}/{image}");
    // Gone meanwhile (deleted since the index was read): nothing to keep.
    let Some(original) = images.head(from.clone()).await? else { return Ok(false) };
    let copied = backups.head(blob.clone()).await?.is_none() && copy(images, &from, backups, &blob).await?;
    let http = HttpMetadata { content_type: original.http_metadata().content_type, ..Default::default() };
    backups.put(marker, Vec::<u8>::new()).http_metadata(http).custom_metadata(original.custom_metadata()?).execute().await?;
    Ok(copied)
}

/// Copies one object between buckets with its metadata, streamed (nothing whole in wasm);
/// `false` when the source is gone.
pub async fn copy(from: &Bucket, from_key: &str, to: &Bucket, to_key: &str) -> Result<bool, BackupError> {
    copy_as(from, from_key, to, to_key, None).await
}

/// [`copy`], with `metadata` (content type, custom) instead of the source's when given.
pub async fn copy_as(
    from: &Bucket,
    from_key: &str,
    to: &Bucket,
    to_key: &str,
    metadata: Option<(Option<String>, HashMap<String, String>)>,
) -> Result<bool, BackupError> {
    let Some(obj) = from.get(from_key.to_string()).execute().await? else { return Ok(false) };
    let (content_type, custom) = match metadata {
        Some(m) => m,
        None => (obj.http_metadata().content_type, obj.custom_metadata()?),
    };
    let Some(ResponseBody::Stream(stream)) = obj.body().map(|b| b.response_body()).transpose()? else {
        return Err(BackupError::Platform(format!("{from_key} has no body stream")));
    };
    let http = HttpMetadata { content_type, ..Default::default() };
    to.put(to_key.to_string(), Data::ReadableStream(stream)).http_metadata(http).custom_metadata(custom).execute().await?;
    Ok(true)
}

/// The newest backups' manifests first, at most `limit`.
pub async fn list(env: &Env, limit: usize) -> Result<Vec<Manifest>, BackupError> {
    let backups = env.bucket(BACKUPS_BUCKET)?;
    let mut ids = Vec::new();
    let mut cursor = None::<String>;
    loop {
        let mut list = backups.list().prefix(keys::BACKUPS).delimiter("/");
        if let Some(c) = cursor.take() {
            list = list.cursor(c);
        }
        let page = list.execute().await?;
        ids.extend(page.delimited_prefixes().iter().filter_map(|p| keys::id_of(p)));
        match page.cursor().filter(|_| page.truncated()) {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    // Ids are timestamps: text order is time order.
    ids.sort_unstable_by(|a, b| b.cmp(a));
    let mut manifests = Vec::new();
    for id in ids.into_iter().take(limit) {
        if let Some(obj) = backups.get(keys::manifest(&id)).execute().await? {
            let text = obj.body().ok_or_else(|| BackupError::Platform("manifest has no body".into()))?.text().await?;
            manifests.push(serde_json::from_str(&text)?);
        }
    }
    Ok(manifests)
}
