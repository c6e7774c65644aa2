//! An uploaded image's analysis job: its placeholder ([`functions::placeholder`]) computed
//! from the original (planned first, decoded at 1/8 scale for a JPEG), written into the
//! original's R2 record and the tenant index, and announced on the tenant feed as
//! `image.analyzed`.
//!
//! A deleted image stays deleted: the R2 write is conditional on the original read (its
//! etag) and the index only updates an existing row. An image the studio cannot analyse keeps
//! `placeholder: null` (logged, never retried: the index is told nothing more is owed, else its
//! alarm would send the job again); storage trouble is retried.

use super::Next;
use crate::config::Config;
use crate::log;
use crate::messages::ImageJob;
use crate::storage::{Images, StorageError};
use crate::tenant::client::TenantIndex;
use crate::tenant::protocol::IndexError;
use functions::{placeholder, ImageError};
use thiserror::Error;
use worker::Env;

/// Seconds before a job that met storage trouble runs again.
const RETRY_SECONDS: u32 = 5;

/// Platform trouble: worth retrying.
#[derive(Debug, Error)]
enum AnalyzeError {
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Index(#[from] IndexError),
    #[error("binding: {0}")]
    Binding(#[from] worker::Error),
}

enum Analyzed {
    Stored,
    /// The image was deleted before or while it was analysed.
    Gone,
    /// The image cannot be analysed (undecodable, too large): it keeps no placeholder.
    Refused(ImageError),
}

/// Runs `job` (delivered as message `message`); a dead-lettered one is only logged.
pub async fn run(env: &Env, config: &Config, job: &ImageJob, message: &str, dead_letter: bool) -> Next {
    let line = |l: log::Line| l.request_id(message).tenant(job.tenant.as_str()).image(job.analyze.as_str());
    if dead_letter {
        line(log::error("dead_letter")).field("detail", "giving up on the image's analysis").emit();
        return Next::Ack;
    }
    match analyze(env, config, job).await {
        Ok(Analyzed::Stored) => line(log::info("analyzed")).emit(),
        Ok(Analyzed::Gone) => line(log::info("skip")).field("detail", "the image was deleted").emit(),
        Ok(Analyzed::Refused(e)) => line(log::warn("analysis_failed")).field("code", e.code()).field("detail", e.to_string()).emit(),
        Err(e) => {
            line(log::warn("retry")).field("detail", e.to_string()).emit();
            return Next::RetryIn(RETRY_SECONDS);
        }
    }
    Next::Ack
}

async fn analyze(env: &Env, config: &Config, job: &ImageJob) -> Result<Analyzed, AnalyzeError> {
    // Its peak is planned for one job per isolate, like a chain's: wait for any render or other
    // job in this isolate to finish first; held until the job ends.
    let _turn = crate::turn::take().await;
    let images = Images::new(env)?;
    let bytes = match images.get_content(&job.tenant, &job.analyze).await {
        Ok(obj) => obj.body().ok_or_else(|| StorageError::Platform("original has no body".into()))?.bytes().await?,
        Err(StorageError::NotFound) => return Ok(Analyzed::Gone),
        Err(e) => return Err(e.into()),
    };
    let limits = config.limits();
    // The planner's peak, checked against the isolate before anything is decoded.
    let planned = placeholder::plan(&bytes, limits)
        .and_then(|p| crate::memory::check(p.peak_bytes).map_err(|e| ImageError::TooLarge(format!("the placeholder {e}"))));
    let computed = planned.and_then(|()| placeholder::compute(bytes, limits));
    let placeholder = match computed {
        Ok(p) => p,
        Err(e) => {
            TenantIndex::new(env, &job.tenant)?.settle_analysis(&job.analyze).await?;
            return Ok(Analyzed::Refused(e));
        }
    };
    if !images.set_placeholder(&job.tenant, &job.analyze, &placeholder).await? {
        return Ok(Analyzed::Gone);
    }
    Ok(match TenantIndex::new(env, &job.tenant)?.set_placeholder(&job.analyze, &placeholder).await? {
        true => Analyzed::Stored,
        false => Analyzed::Gone,
    })
}
