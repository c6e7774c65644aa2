//! The `BACKUPS` bucket's layout: `backups/{id}/manifest.json`, `backups/{id}/{tenant}.ndjson`
//! (one line per index row), `blobs/{sha256}` (the bytes of every distinct original, once) and
//! `originals/{tenant}/{image}` (an empty object carrying that image's metadata; backups taken
//! before blobs existed hold the bytes there instead).

use crate::ids::TenantId;

pub const BACKUPS: &str = "backups/";

pub fn manifest(id: &str) -> String {
    format!("{BACKUPS}{id}/manifest.json")
}

pub fn index(id: &str, tenant: &TenantId) -> String {
    format!("{BACKUPS}{id}/{tenant}.ndjson")
}

pub fn original(tenant: &TenantId, image: &str) -> String {
    format!("originals/{tenant}/{image}")
}

/// Where the bytes of every original with this content hash are kept (hex SHA-256, as the
/// upload computed it). `None` for anything else, so a row cannot name another key.
pub fn blob(sha256: &str) -> Option<String> {
    (sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("blobs/{sha256}"))
}

/// `backups/2026-…Z/` → `2026-…Z`.
pub fn id_of(prefix: &str) -> Option<String> {
    prefix.strip_prefix(BACKUPS)?.strip_suffix('/').filter(|id| is_id(id)).map(str::to_string)
}

/// A backup id as [`super::run`] makes them (an ISO time with `-` for `:`): anything else
/// is not one, so a restore request cannot name another key.
pub fn is_id(id: &str) -> bool {
    (20..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'T' | b'Z' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_ids_are_times_and_nothing_else() {
        assert!(is_id("2026-11-30T01-02-03.004Z"));
        assert_eq!(id_of("backups/2026-11-30T01-02-03.004Z/").as_deref(), Some("2026-11-30T01-02-03.004Z"));
        for bad in ["../images", "2026-11-30T01:02:03.004Z", "", "x/2026-11-30T01-02-03.004Z"] {
            assert!(!is_id(bad), "{bad}");
        }
    }

    #[test]
    fn blobs_are_named_by_a_content_hash_and_nothing_else() {
        let sha = "ab".repeat(32);
        assert_eq!(blob(&sha), Some(format!("blobs/{sha}")));
        for bad in ["", "../x", &"ab".repeat(31), &"zz".repeat(32)] {
            assert_eq!(blob(bad), None, "{bad}");
        }
    }
}
