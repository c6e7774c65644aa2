//! Asking for an uploaded image's analysis (its placeholder): one [`ImageJob`] on the queue,
//! run by [`crate::consumer`]. The upload does not wait for the work, and a send that fails
//! does not fail the upload: the image then keeps `placeholder: null`, and the log says why.

use crate::bindings::STEPS_QUEUE;
use crate::clock::now_millis;
use crate::ids::{ImageId, TenantId};
use crate::log;
use crate::messages::{ImageJob, QueueMessage};
use worker::Env;

/// Queues the analysis of `image`; failures are logged, never returned.
pub async fn request(env: &Env, tenant: &TenantId, image: &ImageId) {
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
