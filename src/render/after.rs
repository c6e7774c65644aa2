//! What a render writes after its answer (`wait_until`): a rendered result into the derived
//! store, the rendition into the edge cache with its marker, then the image's record once more,
//! so that a delete that ran while those writes were in flight still wins.
//!
//! Why after: the client needs the bytes, not the copies; awaited, the writes (R2 put beside
//! the Cache put and its marker) cost a cold render 12–17 ms under `wrangler dev`, a store hit
//! its last round trip. What moving them must not cost is a delete's guarantee: a deleted
//! image's renditions are not served. A delete removes the original (the record), then purges
//! the edge entries its markers name (`edge::purge`). If these writes land after that purge
//! listed the markers, the re-read below finds the record gone and purges them itself; if it
//! finds the record, the writes came before its removal, so the delete's listing, which comes
//! after that removal, finds the marker. Until the re-read's own purge (a round trip or two
//! after the writes) this location can still answer such a rendition from its edge: the delete
//! wins once the render's writes are done, not at the instant the delete answers.
//! A derived-store copy written after the delete listed the results stays (content-addressed,
//! reachable only through a record of the same bytes, as a task's result is).

use super::edge::{self, EdgeKey};
use super::flight::Landing;
use super::produce::{Rendition, Spent};
use crate::clock::now_millis;
use crate::ids::{ImageId, TenantId};
use crate::keys;
use crate::log;
use crate::storage::{Images, StorageError, HEIGHT_META, WIDTH_META};
use futures_util::future::join;
use std::collections::HashMap;
use worker::Env;

/// Everything the writes need, owned: they outlive the request's handler.
pub struct Writes {
    pub env: Env,
    pub request_id: String,
    pub tenant: TenantId,
    pub image: ImageId,
    /// The request's origin: the edge keys live under it (see `edge::purge`).
    pub origin: String,
    pub key: EdgeKey,
    pub etag: String,
    /// Where a rendered result goes in the derived store; `None` for one read from there.
    pub result_key: Option<String>,
    pub rendition: Rendition,
    pub spent: Spent,
    /// Keeps the coalescing entry readable until the store has the rendition.
    pub landing: Landing,
}

impl Writes {
    /// Runs the writes and the delete check, then logs what happened: a rendered result's
    /// `render` line comes last, so it says the rendition's copies are in place (or purged).
    pub async fn run(self) {
        let Ok(images) = Images::new(&self.env) else { return };
        let bucket = images.bucket();
        let (tenant, image, rendition) = (&self.tenant, &self.image, &self.rendition);
        let started = now_millis();
        let keep = edge::keep(bucket, (tenant, image), &self.key, &rendition.bytes, &rendition.content_type, &self.etag);
        let (saved, kept) = join(self.save(bucket), keep).await;
        let writes_ms = now_millis() - started;
        drop(self.landing);
        // A delete that listed the markers before these writes landed left this copy to us.
        let gone = matches!(images.get_record(tenant, image).await, Err(StorageError::NotFound));
        let purged = if gone { edge::purge(bucket, &self.origin, tenant, image).await } else { Ok(()) };
        let stored = saved.is_ok();
        for (what, result) in [("store", saved), ("edge", kept), ("purge", purged)] {
            if let Err(e) = result {
                let line = log::error("render_write_failed").request_id(&self.request_id).tenant(tenant.as_str());
                line.field("write", what).field("error", e.to_string()).emit();
            }
        }
        if self.result_key.is_none() {
            // A rendition read from the store, now also at the edge (or purged).
            log::info("render_kept")
                .request_id(&self.request_id)
                .tenant(tenant.as_str())
                .image(image.as_str())
                .field("purged_after_delete", gone)
                .emit();
        } else {
            log::info("render")
                .request_id(&self.request_id)
                .tenant(tenant.as_str())
                .image(image.as_str())
                .field("bytes", rendition.bytes.length())
                .field("turn_wait_ms", self.spent.turn_wait_ms)
                .field("read_ms", self.spent.read_ms)
                .field("work_ms", self.spent.work_ms)
                .field("writes_ms", writes_ms)
                .field("stored", stored)
                .field("purged_after_delete", gone)
                .emit();
        }
    }

    /// Stores a rendered result for the next request (or task) to share.
    async fn save(&self, bucket: &worker::Bucket) -> worker::Result<()> {
        let Some(result_key) = &self.result_key else { return Ok(()) };
        let rendition = &self.rendition;
        let (width, height) = rendition.dims;
        let meta = HashMap::from([(WIDTH_META.to_string(), width.to_string()), (HEIGHT_META.to_string(), height.to_string())]);
        let key = keys::result(&self.tenant, result_key);
        crate::storage::put_js(bucket, key, &rendition.bytes, &rendition.content_type, &meta).await
    }
}
