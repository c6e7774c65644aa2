//! Writing a tenant's NDJSON to the backup bucket as it is produced: [`Parts`] cuts it into
//! parts of [`PART_BYTES`], each uploaded once full (an R2 multipart upload), so at most a part
//! plus a line is in wasm memory however large the index has grown.

use super::ndjson::{Parts, PART_BYTES};
use super::BackupError;
use worker::{Bucket, MultipartUpload, UploadedPart};

pub struct IndexWriter<'a> {
    bucket: &'a Bucket,
    key: String,
    parts: Parts,
    /// Started with the first full part; `None` while everything fits in one.
    upload: Option<(MultipartUpload, Vec<UploadedPart>)>,
}

impl<'a> IndexWriter<'a> {
    pub fn new(bucket: &'a Bucket, key: String) -> Self {
        IndexWriter { bucket, key, parts: Parts::new(PART_BYTES), upload: None }
    }

    /// Appends bytes, uploading every part they fill.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), BackupError> {
        self.parts.push(bytes);
        while let Some((number, part)) = self.parts.next_full() {
            if self.upload.is_none() {
                let upload = self.bucket.create_multipart_upload(self.key.clone()).execute().await?;
                self.upload = Some((upload, Vec::new()));
            }
            if let Some((upload, uploaded)) = &mut self.upload {
                uploaded.push(upload.upload_part(number, part).await?);
            }
        }
        Ok(())
    }

    /// Stores the object; its size in bytes. An NDJSON shorter than a part (most tenants) is
    /// one plain `put`: a multipart upload would cost three operations for the same object.
    pub async fn finish(mut self) -> Result<u64, BackupError> {
        let last = self.parts.finish();
        let Some((upload, mut uploaded)) = self.upload.take() else {
            self.bucket.put(self.key.clone(), last).execute().await?;
            return Ok(self.parts.total());
        };
        // `complete` consumes the upload: its id is what aborts it if completing fails.
        let id = upload.upload_id().await;
        let done = async {
            if !last.is_empty() {
                uploaded.push(upload.upload_part(self.parts.cut() + 1, last).await?);
            }
            upload.complete(uploaded).await
        };
        if let Err(e) = done.await {
            if let Ok(upload) = self.bucket.resume_multipart_upload(self.key.clone(), id) {
                // Best effort: the error that matters is `e`.
                let _ = upload.abort().await;
            }
            return Err(e.into());
        }
        Ok(self.parts.total())
    }

    /// Gives up: a started upload is aborted, so its parts are not kept (R2 would otherwise
    /// keep them until its lifecycle rule aborts it, 7 days by default).
    pub async fn abort(self) {
        if let Some((upload, _)) = &self.upload {
            // Best effort: the backup already failed with the error that matters.
            let _ = upload.abort().await;
        }
    }
}
