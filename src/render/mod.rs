//! Images rendered on request (`GET /images/{id}/render`): the options a URL carries, the
//! format its client accepts, and the three caches in front of the work — the edge cache, the
//! derived store in R2 (shared with tasks' results), and coalescing of simultaneous misses.
//! The HTTP side is `api/render.rs`.

pub mod after;
pub mod edge;
pub mod flight;
pub mod held;
pub mod negotiate;
pub mod options;
pub mod produce;

use functions::Format;

/// Whether images of `format` may carry transparency: those get PNG, not JPEG, when the client
/// takes neither WebP nor AVIF. Decided from the format rather than the pixels so that the
/// choice (and the cache key) is known before anything is decoded.
pub fn may_have_alpha(format: Format) -> bool {
    !matches!(format, Format::Jpeg)
}
