//! Which tenants exist, for the cron jobs (retention, backups): Durable Objects cannot be
//! enumerated, so a tenant is found by its originals in R2 (`images/{tenant}/…`), listed a
//! prefix at a time with a delimiter (one entry per tenant, however many images it has).
//!
//! A tenant with no image left holds no outputs either (deleting an image deletes its results
//! and its tasks' zips), so retention loses nothing by not seeing it; backups note the same
//! limit in docs/OPERATIONS.md.

use crate::ids::TenantId;
use worker::{Bucket, Result};

const ORIGINALS: &str = "images/";

/// Every tenant with at least one original, in key order.
pub async fn tenants(bucket: &Bucket) -> Result<Vec<TenantId>> {
    let (mut found, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let mut list = bucket.list().prefix(ORIGINALS).delimiter("/");
        if let Some(c) = cursor.take() {
            list = list.cursor(c);
        }
        let page = list.execute().await?;
        found.extend(page.delimited_prefixes().iter().filter_map(|p| tenant_of(p)));
        match page.cursor().filter(|_| page.truncated()) {
            Some(c) => cursor = Some(c),
            None => return Ok(found),
        }
    }
}

/// `images/alice/` → `alice`.
fn tenant_of(prefix: &str) -> Option<TenantId> {
    TenantId::parse(prefix.strip_prefix(ORIGINALS)?.strip_suffix('/')?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delimited_prefix_names_its_tenant() {
        assert_eq!(tenant_of("images/alice/").map(|t| t.as_str().to_string()), Some("alice".into()));
        assert!(tenant_of("images/").is_none() && tenant_of("results/alice/").is_none() && tenant_of("images/a b/").is_none());
    }
}
