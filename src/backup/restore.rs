//! Restoring one tenant from one backup: its index is replaced by the backup's rows (positions
//! included, so listings and cursors come back as they were), and every original the backup
//! lists that is missing from the image bucket is copied back: its bytes from the blob of its
//! content hash, its metadata from its image's marker (or, from a backup taken before blobs,
//! both from the full copy at the marker's key).

use super::ndjson::{Lines, MAX_LINE_BYTES};
use super::{copy, copy_as, keys, BackupError};
use crate::bindings::{BACKUPS_BUCKET, IMAGES_BUCKET};
use crate::ids::TenantId;
use crate::tenant::backup::Line;
use crate::tenant::client::TenantIndex;
use futures_util::StreamExt;
use serde::Serialize;
use std::collections::VecDeque;
use worker::{Bucket, ByteStream, Env};

/// Rows written to the index per call, at most.
const BATCH: usize = 500;
/// NDJSON bytes past which a batch is sent before it reaches [`BATCH`] rows: lines can be long,
/// and a batch is held whole (so at most this plus one line).
const BATCH_BYTES: usize = 4 << 20;

/// What a restore did (the answer of `POST /admin/restore`).
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub backup: String,
    pub tenant: TenantId,
    pub images: u64,
    pub tasks: u64,
    pub originals_restored: u64,
}

/// Restores `tenant` from `backup`, reading its NDJSON twice as a stream (a chunk plus one line
/// in memory, however large the index): originals first, then the rows.
pub async fn restore(env: &Env, backup: &str, tenant: &TenantId) -> Result<Restored, BackupError> {
    let missing = || BackupError::NotFound(format!("backup: no backup {backup:?} holding tenant {tenant}"));
    if !keys::is_id(backup) {
        return Err(missing());
    }
    let (images, backups) = (env.bucket(IMAGES_BUCKET)?, env.bucket(BACKUPS_BUCKET)?);
    let key = keys::index(backup, tenant);
    let mut restored = Restored { backup: backup.to_string(), tenant: tenant.clone(), images: 0, tasks: 0, originals_restored: 0 };
    // Originals first: once the rows are back, every listed image must be readable. This pass
    // also parses every line, so a corrupt object fails before the index is touched.
    let mut lines = LineReader::open(&backups, &key).await?.ok_or_else(missing)?;
    while let Some(line) = lines.next().await? {
        match line {
            Line::Images { id, sha256, .. } => {
                restored.images += 1;
                let key = format!("images/{tenant}/{id}");
                if images.head(key.clone()).await?.is_none() && restore_original(&backups, &images, tenant, &id, &sha256, &key).await? {
                    restored.originals_restored += 1;
                }
            }
            Line::Tasks { .. } => restored.tasks += 1,
            _ => {}
        }
    }
    let index = TenantIndex::new(env, tenant)?;
    index.restore(&[], true).await?;
    restore_rows(&index, LineReader::open(&backups, &key).await?.ok_or_else(missing)?).await?;
    Ok(restored)
}

/// Writes the backup's rows into the (emptied) index, in batches.
async fn restore_rows(index: &TenantIndex, mut lines: LineReader) -> Result<(), BackupError> {
    let (mut batch, mut batch_bytes) = (Vec::new(), 0);
    while let Some(line) = lines.next().await? {
        batch_bytes += lines.last_len();
        batch.push(line);
        if batch.len() >= BATCH || batch_bytes >= BATCH_BYTES {
            index.restore(&batch, false).await?;
            (batch, batch_bytes) = (Vec::new(), 0);
        }
    }
    if !batch.is_empty() {
        index.restore(&batch, false).await?;
    }
    Ok(())
}

/// A backup's NDJSON read as a stream, one typed line at a time.
struct LineReader {
    body: ByteStream,
    lines: Option<Lines>,
    ready: VecDeque<Vec<u8>>,
    last_len: usize,
}

impl LineReader {
    async fn open(backups: &Bucket, key: &str) -> Result<Option<Self>, BackupError> {
        let Some(obj) = backups.get(key.to_string()).execute().await? else { return Ok(None) };
        let Some(body) = obj.body() else { return Ok(None) };
        Ok(Some(LineReader { body: body.stream()?, lines: Some(Lines::new(MAX_LINE_BYTES)), ready: VecDeque::new(), last_len: 0 }))
    }

    async fn next(&mut self) -> Result<Option<Line>, BackupError> {
        loop {
            if let Some(raw) = self.ready.pop_front() {
                self.last_len = raw.len();
                let line: Line = serde_json::from_slice(&raw)?;
                line.check().map_err(|e| BackupError::Platform(format!("the backup holds {e}")))?;
                return Ok(Some(line));
            }
            let Some(lines) = self.lines.as_mut() else { return Ok(None) };
            match self.body.next().await {
                Some(chunk) => self.ready.extend(lines.push(&chunk?)?),
                None => self.ready.extend(self.lines.take().and_then(Lines::finish)),
            }
        }
    }

    /// The byte length of the line [`Self::next`] returned last.
    fn last_len(&self) -> usize {
        self.last_len
    }
}

/// Copies one original back to `to`; `false` when the backup does not hold it.
async fn restore_original(
    backups: &Bucket,
    images: &Bucket,
    tenant: &TenantId,
    id: &str,
    sha256: &str,
    to: &str,
) -> Result<bool, BackupError> {
    let marker_key = keys::original(tenant, id);
    let Some(marker) = backups.head(marker_key.clone()).await? else { return Ok(false) };
    if marker.size() > 0 {
        // A backup from before blobs: the marker is the full copy.
        return copy(backups, &marker_key, images, to).await;
    }
    let Some(blob) = keys::blob(sha256) else { return Ok(false) };
    let metadata = (marker.http_metadata().content_type, marker.custom_metadata()?);
    copy_as(backups, &blob, images, to, Some(metadata)).await
}
