//! Names of the bindings declared in `wrangler.toml`, in one place so the two never drift.

/// R2 bucket holding originals, intermediates and outputs.
pub const IMAGES_BUCKET: &str = "IMAGES";
/// Queue producer binding for jobs: an image's chain (its steps run in one job), the zip, the webhook.
pub const STEPS_QUEUE: &str = "STEPS";
/// Durable Object namespace holding one task chain per object.
pub const TASKS: &str = "TASKS";
/// Durable Object namespace holding one token bucket per tenant.
pub const RATE_LIMITER: &str = "RATE_LIMITER";
/// Durable Object namespace holding one index (images, tasks) per tenant.
pub const TENANTS: &str = "TENANTS";
/// Static files of `public/`: the OpenAPI document, the browser client, the studio page.
pub const ASSETS: &str = "ASSETS";
/// R2 bucket holding backups: each tenant's index as NDJSON and a copy of every original.
pub const BACKUPS_BUCKET: &str = "BACKUPS";
/// Workers Analytics Engine dataset for request and step metrics; may be absent (see `metrics`).
pub const METRICS: &str = "METRICS";
