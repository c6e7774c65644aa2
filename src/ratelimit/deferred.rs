//! Charges that are never refused (an edge hit's read), summed per tenant in this isolate and
//! sent to the tenant's limiter as one charge shortly after the first of them.
//!
//! Why: such a charge can only lower what later requests may spend, so it need not be exact to
//! the millisecond, only counted. Sent one by one, every edge hit paid a limiter round trip on
//! the isolate's one thread right after its answer (~1.6 ms in a CPU profile of edge hits
//! under `wrangler dev`), which the next request of a client reading a gallery met. Summed,
//! a burst of hits costs one round trip per tenant per [`FLUSH_MS`]; the limiter sees them at
//! most that much later. What an isolate dies holding (evicted within those milliseconds) is
//! not charged: the same loss as a charge whose call failed, which reads already forgive
//! (`object::when_unreachable`).

use super::object::charge_tokens;
use crate::ids::TenantId;
use std::cell::RefCell;
use std::collections::HashMap;
use worker::{Context, Env};

/// How long the first deferred charge waits for others to join it.
pub const FLUSH_MS: u64 = 100;

/// Tokens owed per tenant, not yet sent.
#[derive(Default)]
struct Owed(HashMap<String, u32>);

impl Owed {
    /// Adds `tokens` for `tenant`; `true` when nothing was owed for it yet (the caller then
    /// schedules the flush).
    fn add(&mut self, tenant: &str, tokens: u32) -> bool {
        let owed = self.0.entry(tenant.to_string()).or_insert(0);
        let first = *owed == 0;
        *owed = owed.saturating_add(tokens);
        first
    }

    /// What `tenant` owes, cleared.
    fn take(&mut self, tenant: &str) -> u32 {
        self.0.remove(tenant).unwrap_or(0)
    }
}

thread_local! {
    static OWED: RefCell<Owed> = RefCell::new(Owed::default());
}

/// Charges `tokens` to `tenant` within [`FLUSH_MS`], together with every other deferred charge
/// of this tenant in this isolate. The flush runs in the `wait_until` of the request that
/// opened it (see `turn`'s note: its timer must be its own).
pub fn charge_soon(background: &Context, env: &Env, tenant: &TenantId, tokens: u32, per_minute: u32) {
    if !OWED.with(|o| o.borrow_mut().add(tenant.as_str(), tokens)) {
        return;
    }
    let (env, tenant) = (env.clone(), tenant.clone());
    crate::turn::after_answer(background, async move {
        crate::turn::pause(FLUSH_MS).await;
        let tokens = OWED.with(|o| o.borrow_mut().take(tenant.as_str()));
        if tokens > 0 {
            // Never refused: a refusal has nobody left to tell, and a failure is logged.
            let _ = charge_tokens(&env, &tenant, tokens, per_minute).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_of_one_tenant_add_up_and_only_the_first_opens_a_flush() {
        let mut owed = Owed::default();
        assert!(owed.add("alice", 1), "the first charge opens the flush");
        assert!(!owed.add("alice", 1), "the next one joins it");
        assert!(owed.add("bob", 1), "another tenant has a flush of its own");
        assert_eq!(owed.take("alice"), 2);
        assert_eq!(owed.take("alice"), 0, "taken once");
        assert!(owed.add("alice", 1), "after the flush, a new charge opens the next one");
        assert_eq!(owed.take("bob"), 1);
    }
}
