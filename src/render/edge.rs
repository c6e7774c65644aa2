//! The edge cache (`caches.default`): the first of the three levels, answered before anything
//! else is read. Keyed by tenant, image, canonical options and (when the format is negotiated)
//! the client's [`AcceptClass`]: everything a rendition depends on that the request alone tells.
//!
//! The edge cache cannot be listed, so every entry also gets an empty marker in R2 under the
//! image (`keys::edge_marker`); deleting the image purges the entries its markers name. That
//! purge reaches this location's cache only: elsewhere a deleted image's renditions live until
//! [`EDGE_TTL_SECONDS`] (docs/ARCHITECTURE.md says so).

use super::negotiate::AcceptClass;
use crate::ids::{ImageId, TenantId};
use crate::keys;
use crate::storage::{delete_keys, list_keys};
use sha2::{Digest, Sha256};
use worker::{Bucket, Cache, Headers, Response};

/// How long an edge copy lives (renditions never change; deletes purge this location early).
pub const EDGE_TTL_SECONDS: u64 = 30 * 24 * 3600;

/// Where one rendition lives in the edge cache.
#[derive(Clone)]
pub struct EdgeKey {
    url: String,
    hash: String,
}

impl EdgeKey {
    pub fn new(origin: &str, tenant: &TenantId, image: &ImageId, canonical: &str, class: Option<AcceptClass>) -> EdgeKey {
        let class = class.map_or("fixed", AcceptClass::name);
        let material = format!("{tenant}\n{image}\n{canonical}\n{class}");
        let hash = hex::encode(&Sha256::digest(material.as_bytes())[..16]);
        EdgeKey { url: edge_url(origin, tenant, image, &hash), hash }
    }
}

fn edge_url(origin: &str, tenant: &TenantId, image: &ImageId, hash: &str) -> String {
    // Under the Worker's own origin (the zone's cache), on a path no route serves.
    format!("{origin}/__edge/render/{tenant}/{image}/{hash}")
}

/// A rendition found in the edge cache.
pub struct Cached {
    pub response: Response,
    pub etag: String,
}

/// The cached rendition under `key`, if this location has it.
pub async fn lookup(key: &EdgeKey) -> worker::Result<Option<Cached>> {
    let Some(response) = Cache::default().get(key.url.as_str(), true).await? else { return Ok(None) };
    let etag = response.headers().get("etag")?.unwrap_or_default();
    Ok(Some(Cached { response, etag }))
}

/// Keeps a rendition at the edge, and the marker that lets a delete purge it.
///
/// Both writes go out together (written one after the other they cost a round trip more and
/// guard nothing more), after the answer (`render::after`, which re-reads the image's record
/// afterwards so that a delete racing these writes still wins). A marker that failed takes its
/// entry back out, so no entry outlives a delete unmarked.
pub async fn keep(
    bucket: &Bucket,
    (tenant, image): (&TenantId, &ImageId),
    key: &EdgeKey,
    bytes: &js_sys::Uint8Array,
    content_type: &str,
    etag: &str,
) -> worker::Result<()> {
    let headers = Headers::new();
    headers.set("content-type", content_type)?;
    headers.set("etag", etag)?;
    headers.set("cache-control", &format!("public, max-age={EDGE_TTL_SECONDS}"))?;
    let response = super::held::response(bytes)?.with_headers(headers);
    let marker = bucket.put(keys::edge_marker(tenant, image, &key.hash), Vec::new()).execute();
    let (marked, cached) = futures_util::future::join(marker, Cache::default().put(key.url.as_str(), response)).await;
    if let Err(e) = marked {
        if cached.is_ok() {
            Cache::default().delete(key.url.as_str(), true).await?;
        }
        return Err(e);
    }
    cached
}

/// Purges this location's edge copies of `image` and its markers.
pub async fn purge(bucket: &Bucket, origin: &str, tenant: &TenantId, image: &ImageId) -> worker::Result<()> {
    let markers = list_keys(bucket, &keys::edge_markers_of(tenant, image)).await?;
    let cache = Cache::default();
    for marker in &markers {
        if let Some(hash) = marker.rsplit('/').next() {
            cache.delete(edge_url(origin, tenant, image, hash).as_str(), true).await?;
        }
    }
    delete_keys(bucket, &markers).await
}
