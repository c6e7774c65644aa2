//! Restoring one tenant from one backup: its index is replaced by the backup's rows (positions
//! included, so listings and cursors come back as they were), and every original the backup
//! lists that is missing from the image bucket is copied back: its bytes from the blob of its
//! content hash, its metadata from its image's marker (or, from a backup taken before blobs,
//! both from the full copy at the marker's key).

use super::{copy, copy_as, keys, BackupError};
use crate::bindings::{BACKUPS_BUCKET, IMAGES_BUCKET};
use crate::ids::TenantId;
use crate::tenant::backup::Line;
use crate::tenant::client::TenantIndex;
use serde::Serialize;
use worker::{Bucket, Env};

/// Rows written to the index per call.
const BATCH: usize = 500;

/// What a restore did (the answer of `POST /admin/restore`).
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub backup: String,
    pub tenant: TenantId,
    pub images: u64,
    pub tasks: u64,
    pub originals_restored: u64,
}

pub async fn restore(env: &Env, backup: &str, tenant: &TenantId) -> Result<Restored, BackupError> {
    let missing = || BackupError::NotFound(format!("backup: no backup {backup:?} holding tenant {tenant}"));
    if !keys::is_id(backup) {
        return Err(missing());
    }
    let (images, backups) = (env.bucket(IMAGES_BUCKET)?, env.bucket(BACKUPS_BUCKET)?);
    let obj = backups.get(keys::index(backup, tenant)).execute().await?.ok_or_else(missing)?;
    let text = obj.body().ok_or_else(missing)?.text().await?;
    let lines = text.lines().filter(|l| !l.is_empty()).map(serde_json::from_str).collect::<Result<Vec<Line>, _>>()?;
    let index = TenantIndex::new(env, tenant)?;
    let mut restored = Restored { backup: backup.to_string(), tenant: tenant.clone(), images: 0, tasks: 0, originals_restored: 0 };
    // Originals first: once the rows are back, every listed image must be readable.
    for line in &lines {
        match line {
            Line::Images { id, sha256, .. } => {
                restored.images += 1;
                let key = format!("images/{tenant}/{id}");
                if images.head(key.clone()).await?.is_none() && restore_original(&backups, &images, tenant, id, sha256, &key).await? {
                    restored.originals_restored += 1;
                }
            }
            Line::Tasks { .. } => restored.tasks += 1,
            _ => {}
        }
    }
    index.restore(&[], true).await?;
    for batch in lines.chunks(BATCH) {
        index.restore(batch, false).await?;
    }
    Ok(restored)
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
