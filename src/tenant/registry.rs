//! The registry of tenants, for the cron jobs (retention, backups) and restores: Durable Objects
//! cannot be enumerated, so a tenant's index object writes an empty marker `tenants/{tenant}`
//! into the image bucket the first time it is written to (an upload, a task snapshot, a
//! restore), and notes in its own SQLite that it did, so the marker is written once.
//!
//! The object learns its tenant from the header its client sends ([`TENANT_HEADER`]): an object
//! is named by its tenant, but a Durable Object does not know its own name.

use crate::bindings::IMAGES_BUCKET;
use crate::ids::TenantId;
use serde::Deserialize;
use worker::{Env, Result, SqlStorage};

pub const PREFIX: &str = "tenants/";

/// Set by [`super::client::TenantIndex`] on every call.
pub const TENANT_HEADER: &str = "x-stellar-tenant";

pub const SCHEMA: [&str; 1] = ["CREATE TABLE IF NOT EXISTS registered (tenant TEXT PRIMARY KEY)"];

pub fn key(tenant: &TenantId) -> String {
    format!("{PREFIX}{tenant}")
}

/// `tenants/alice` → `alice`.
pub fn tenant_of(key: &str) -> Option<TenantId> {
    TenantId::parse(key.strip_prefix(PREFIX)?)
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

/// Before a write: registers the tenant unless this object already did. A failure is logged
/// and retried at the next write, which goes on (the tenant is only missed by the crons).
pub async fn note(sql: &SqlStorage, env: &Env, tenant: Option<&TenantId>) {
    let Some(tenant) = tenant else { return };
    if let Err(e) = ensure(sql, env, tenant).await {
        crate::log::error("registry_failed").field("tenant", tenant.as_str()).field("error", e.to_string()).emit();
    }
}

/// Writes the tenant's marker unless this object already did.
async fn ensure(sql: &SqlStorage, env: &Env, tenant: &TenantId) -> Result<()> {
    let done = sql.exec("SELECT COUNT(*) AS n FROM registered WHERE tenant = ?", vec![tenant.as_str().into()])?.one::<Count>()?.n > 0;
    if done {
        return Ok(());
    }
    env.bucket(IMAGES_BUCKET)?.put(key(tenant), Vec::<u8>::new()).execute().await?;
    sql.exec("INSERT OR IGNORE INTO registered (tenant) VALUES (?)", vec![tenant.as_str().into()])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_names_its_tenant_and_nothing_else() {
        let alice = TenantId::parse("alice").expect("tenant");
        assert_eq!(tenant_of(&key(&alice)), Some(alice));
        assert!(tenant_of("tenants/").is_none() && tenant_of("images/alice").is_none() && tenant_of("tenants/a b").is_none());
    }
}
