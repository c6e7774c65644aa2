//! The zip of every output, written to R2 as a multipart upload while it is produced: each
//! output is streamed from R2 chunk by chunk into the zip, so memory holds one chunk and less
//! than one part at a time, however large the outputs (see [`crate::archive`]).

use super::failure::{transient, Attempt, Kind};
use crate::archive::{ZipParts, PART_BYTES};
use crate::bindings::IMAGES_BUCKET;
use crate::messages::{Outcome, PackageSpec};
use futures_util::StreamExt;
use worker::{Bucket, Env, HttpMetadata, MultipartUpload, UploadedPart};

/// Platform trouble worth retrying: which kind (what the client is told) and the cause (logged).
type Trouble = (Kind, String);

pub async fn run(env: &Env, at: Attempt<'_>, spec: &PackageSpec) -> Outcome {
    let bucket = match env.bucket(IMAGES_BUCKET) {
        Ok(b) => b,
        Err(e) => return transient(Kind::Storage, at, e),
    };
    let http = HttpMetadata { content_type: Some("application/zip".into()), ..Default::default() };
    let upload = match bucket.create_multipart_upload(spec.key.clone()).http_metadata(http).execute().await {
        Ok(u) => u,
        Err(e) => return transient(Kind::Upload, at, format!("starting the upload: {e}")),
    };
    match write(&bucket, &upload, spec).await {
        Ok(Ok(parts)) => match upload.complete(parts.0).await {
            Ok(_) => Outcome::Packaged { bytes: parts.1 },
            Err(e) => transient(Kind::Upload, at, format!("completing the upload: {e}")),
        },
        Ok(Err(permanent)) => {
            let _ = upload.abort().await;
            permanent
        }
        Err((kind, cause)) => {
            let _ = upload.abort().await;
            transient(kind, at, cause)
        }
    }
}

/// Streams every entry into parts. `Ok(Err(outcome))` is a permanent failure (an output is
/// gone); `Err` is platform trouble worth retrying.
async fn write(
    bucket: &Bucket,
    upload: &MultipartUpload,
    spec: &PackageSpec,
) -> Result<Result<(Vec<UploadedPart>, u64), Outcome>, Trouble> {
    let storage = |e: worker::Error| (Kind::Storage, e.to_string());
    let archive = |e: crate::archive::ArchiveError| (Kind::Archive, e.to_string());
    let mut zip = ZipParts::new(PART_BYTES);
    let (mut uploaded, mut total) = (Vec::new(), 0u64);
    for entry in &spec.entries {
        let Some(obj) = bucket.get(entry.key.clone()).execute().await.map_err(storage)? else {
            let message = format!("the output {} is missing from storage", entry.name);
            return Ok(Err(Outcome::Failed { code: "not_found".into(), message }));
        };
        let size = obj.size();
        let body = obj.body().ok_or_else(|| (Kind::Storage, format!("{} has no body", entry.key)))?;
        let mut chunks = body.stream().map_err(storage)?;
        zip.start(&entry.name, size).map_err(archive)?;
        let mut read = 0u64;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(storage)?;
            read += chunk.len() as u64;
            for part in zip.write(&chunk).map_err(archive)? {
                total += part.len() as u64;
                uploaded.push(upload_part(upload, uploaded.len(), part).await?);
            }
        }
        // The entry's header was sized from the object's metadata: a short read is a bad zip.
        if read != size {
            return Err((Kind::Storage, format!("{}: read {read} of {size} bytes", entry.key)));
        }
    }
    for part in zip.finish().map_err(archive)? {
        total += part.len() as u64;
        uploaded.push(upload_part(upload, uploaded.len(), part).await?);
    }
    Ok(Ok((uploaded, total)))
}

/// Uploads the part after the `done` ones (R2 numbers them from 1).
async fn upload_part(upload: &MultipartUpload, done: usize, part: Vec<u8>) -> Result<UploadedPart, Trouble> {
    let number = u16::try_from(done + 1).map_err(|_| (Kind::Archive, "the zip has too many parts".to_string()))?;
    upload.upload_part(number, part).await.map_err(|e| (Kind::Upload, format!("uploading part {number}: {e}")))
}
