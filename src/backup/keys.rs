//! The `BACKUPS` bucket's layout: `backups/{id}/manifest.json`, `backups/{id}/{tenant}.ndjson`
//! (one line per index row), and `originals/{tenant}/{image}` (one copy of each original).

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
}
