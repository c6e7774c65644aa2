//! Which tenants exist, for the cron jobs (retention, backups): every tenant in the registry
//! ([`super::registry`]: a marker each index object writes when it is first written to), and,
//! for tenants whose index was last written before the registry existed, every tenant with an
//! original in R2 (`images/{tenant}/…`, listed a prefix at a time with a delimiter: one entry
//! per tenant, however many images it has). A tenant whose images were all deleted is still
//! found by its marker, so its task history is backed up and its outputs swept.

use super::registry;
use crate::ids::TenantId;
use std::collections::BTreeSet;
use worker::{Bucket, Result};

const ORIGINALS: &str = "images/";

/// Every known tenant, in id order, once.
pub async fn tenants(bucket: &Bucket) -> Result<Vec<TenantId>> {
    let mut found = BTreeSet::new();
    for prefix in list(bucket, registry::PREFIX, false).await? {
        found.extend(registry::tenant_of(&prefix).map(|t| t.as_str().to_string()));
    }
    for prefix in list(bucket, ORIGINALS, true).await? {
        found.extend(tenant_of(&prefix).map(|t| t.as_str().to_string()));
    }
    Ok(found.iter().filter_map(|t| TenantId::parse(t)).collect())
}

/// Every key under `prefix`, or with `delimited` every prefix one level below it.
async fn list(bucket: &Bucket, prefix: &str, delimited: bool) -> Result<Vec<String>> {
    let (mut found, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let mut list = bucket.list().prefix(prefix);
        if delimited {
            list = list.delimiter("/");
        }
        if let Some(c) = cursor.take() {
            list = list.cursor(c);
        }
        let page = list.execute().await?;
        if delimited {
            found.extend(page.delimited_prefixes());
        } else {
            found.extend(page.objects().iter().map(|o| o.key()));
        }
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
