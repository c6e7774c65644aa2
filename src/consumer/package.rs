//! The zip of every output, written to R2 as a multipart upload while it is produced: one
//! output and less than one part in memory at a time (see [`crate::archive`]).

use crate::archive::{ZipParts, PART_BYTES};
use crate::bindings::IMAGES_BUCKET;
use crate::messages::{Outcome, PackageSpec};
use worker::{Bucket, Env, HttpMetadata, MultipartUpload, UploadedPart};

pub async fn run(env: &Env, spec: &PackageSpec) -> Outcome {
    let bucket = match env.bucket(IMAGES_BUCKET) {
        Ok(b) => b,
        Err(e) => return Outcome::Transient { message: e.to_string() },
    };
    let http = HttpMetadata { content_type: Some("application/zip".into()), ..Default::default() };
    let upload = match bucket.create_multipart_upload(spec.key.clone()).http_metadata(http).execute().await {
        Ok(u) => u,
        Err(e) => return Outcome::Transient { message: format!("starting the upload: {e}") },
    };
    match write(&bucket, &upload, spec).await {
        Ok(Ok(parts)) => match upload.complete(parts.0).await {
            Ok(_) => Outcome::Packaged { bytes: parts.1 },
            Err(e) => Outcome::Transient { message: format!("completing the upload: {e}") },
        },
        Ok(Err(permanent)) => {
            let _ = upload.abort().await;
            permanent
        }
        Err(e) => {
            let _ = upload.abort().await;
            Outcome::Transient { message: e.to_string() }
        }
    }
}

/// Streams every entry into parts. `Ok(Err(outcome))` is a permanent failure (an output is
/// gone); `Err` is platform trouble worth retrying.
async fn write(bucket: &Bucket, upload: &MultipartUpload, spec: &PackageSpec) -> worker::Result<Result<(Vec<UploadedPart>, u64), Outcome>> {
    let mut zip = ZipParts::new(PART_BYTES);
    let (mut uploaded, mut total) = (Vec::new(), 0u64);
    for entry in &spec.entries {
        let Some(obj) = bucket.get(entry.key.clone()).execute().await? else {
            let message = format!("the output {} is missing from storage", entry.name);
            return Ok(Err(Outcome::Failed { code: "not_found".into(), message }));
        };
        let data = obj.body().ok_or_else(|| worker::Error::RustError("output has no body".into()))?.bytes().await?;
        let parts = zip.add(&entry.name, &data).map_err(|e| worker::Error::RustError(e.to_string()))?;
        drop(data);
        for part in parts {
            total += part.len() as u64;
            uploaded.push(upload.upload_part(uploaded.len() as u16 + 1, part).await?);
        }
    }
    for part in zip.finish().map_err(|e| worker::Error::RustError(e.to_string()))? {
        total += part.len() as u64;
        uploaded.push(upload.upload_part(uploaded.len() as u16 + 1, part).await?);
    }
    Ok(Ok((uploaded, total)))
}
