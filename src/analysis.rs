//! Asking for an uploaded image's analysis (its placeholder): one [`ImageJob`] on the queue,
//! run by [`crate::consumer`]. The upload's answer waits neither for the work nor for the send:
//! the send runs in `wait_until`, after the answer. (Awaited in the handler, the send had
//! raised the local upload p50 from ~42–59 ms to ~92 ms; docs/BENCHMARKS.md, "Uploads", has
//! the measurement.)
//!
//! Sending after the answer must not lose the job: the index write the upload awaits anyway
//! records the analysis as owed ([`crate::tenant::pending`]), and the tenant object's alarm
//! sends it again unless it is settled first — 2 s after this send fails (we tell the index),
//! or after `QUEUE_TIMEOUT_SECONDS` if the isolate never got to send it at all.

use crate::bindings::STEPS_QUEUE;
use crate::clock::now_millis;
use crate::config::Config;
use crate::ids::{ImageId, TenantId};
use crate::log;
use crate::messages::{ImageJob, QueueMessage};
use crate::tenant::client::TenantIndex;
use worker::{Context, Env, MessageBuilder};

/// Seconds the queue holds the job before delivering it. With `max_batch_timeout = 0` it would
/// otherwise start at once, often in this same isolate, whose one thread its decode then holds
/// while the upload's answer is still being written: measured locally, that made the answer
/// itself 1.2× (1600×1200) to 1.5× (12 MP) slower (docs/BENCHMARKS.md, "Uploads").
const DELAY_SECONDS: u32 = 1;

/// How long the index waits for the analysis before it sends the job again; `None` when
/// uploads are not analysed (`BENCH_SKIP_ANALYSIS`, benchmarks only).
pub fn owed_wait_ms(config: &Config) -> Option<u64> {
    config.analyze_uploads.then(|| config.queue_timeout_seconds.saturating_mul(1000))
}

/// Queues the analysis of `image` once the answer is on its way (`wait_until`).
pub fn request_after_answer(background: &Context, env: &Env, config: &Config, tenant: &TenantId, image: &ImageId) {
    if !config.analyze_uploads {
        return;
    }
    let (env, fail) = (env.clone(), config.faults.analysis_send_fail);
    let (tenant, image) = (tenant.clone(), image.clone());
    crate::turn::after_answer(background, async move { request(&env, &tenant, &image, fail).await });
}

/// Queues the analysis of `image`; a failure is logged and handed to the index's alarm.
async fn request(env: &Env, tenant: &TenantId, image: &ImageId, fail: bool) {
    let job = QueueMessage::Image(ImageJob { tenant: tenant.clone(), analyze: image.clone(), sent_ms: now_millis() });
    let sent = match env.queue(STEPS_QUEUE) {
        Ok(_) if fail => Err(worker::Error::RustError("FAULT_INJECTION analysis_send_fail".into())),
        Ok(queue) => queue.send(MessageBuilder::new(job).delay_seconds(DELAY_SECONDS).build()).await,
        Err(e) => Err(e),
    };
    let Err(e) = sent else { return };
    let line = log::warn("analysis_not_queued").tenant(tenant.as_str()).image(image.as_str()).field("detail", e.to_string());
    line.field("retry", "the tenant index's alarm sends it again").emit();
    // If this fails too, the owed row is still due after the queue timeout.
    let expedited = match TenantIndex::new(env, tenant) {
        Ok(index) => index.analysis_send_failed(image).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = expedited {
        log::warn("analysis_not_expedited").tenant(tenant.as_str()).image(image.as_str()).field("detail", e).emit();
    }
}
