//! Asking for an uploaded image's analysis (its placeholder): one [`ImageJob`] on the queue,
//! run by [`crate::consumer`]. The upload waits neither for the work nor for the send (it runs
//! in `wait_until` after the answer: awaited in the handler, the send alone had raised the
//! local upload p50 from ~42–59 ms to ~92 ms), and a send that fails does not fail the upload:
//! the image then keeps `placeholder: null`, and the log says why.

use crate::bindings::STEPS_QUEUE;
use crate::clock::now_millis;
use crate::ids::{ImageId, TenantId};
use crate::log;
use crate::messages::{ImageJob, QueueMessage};
use worker::{Context, Env};

/// Queues the analysis of `image` once the answer is on its way (`wait_until`).
pub fn request_after_answer(background: &Context, env: &Env, tenant: &TenantId, image: &ImageId) {
    let (env, tenant, image) = (env.clone(), tenant.clone(), image.clone());
    background.wait_until(async move { request(&env, &tenant, &image).await });
}

/// Queues the analysis of `image`; failures are logged, never returned.
async fn request(env: &Env, tenant: &TenantId, image: &ImageId) {
    let job = QueueMessage::Image(ImageJob { tenant: tenant.clone(), analyze: image.clone(), sent_ms: now_millis() });
    let sent = match env.queue(STEPS_QUEUE) {
        Ok(queue) => queue.send(job).await,
        Err(e) => Err(e),
    };
    if let Err(e) = sent {
        let line = log::warn("analysis_not_queued").tenant(tenant.as_str()).image(image.as_str());
        line.field("detail", e.to_string()).emit();
    }
}
