//! Handing a new task's first job to the request that created it instead of to the queue.
//!
//! Why: a queue delivery is a hop before the first step can start — about 6 ms under
//! `wrangler dev`, tens to hundreds of ms on the platform — and for a small image that hop is
//! a large part of the whole task. The creating request already runs in an isolate; it runs
//! the job after its answer (`wait_until`) through the same claim and reports a delivered
//! message would use, so events, exactly-once effects and retries are unchanged.
//!
//! What keeps it safe: the job's lease is dispatched as if its message had been sent, with a
//! short deadline ([`INLINE_CLAIM_MS`]). If the creating isolate dies before it claims, the
//! watchdog finds the lease unclaimed and sends the message then; once claimed, the job is a
//! running job like any other, covered by the step timeout. Everything after the first job
//! (retries, later images, the zip, the webhook) goes through the queue as before.

use super::model::{Effects, Task, Tick};
use crate::messages::JobRef;

/// How long a handed-over job may stay unclaimed before the watchdog sends it to the queue.
/// The creating request claims within milliseconds of its answer; this only matters when that
/// isolate died in between, and then a few seconds' wait is the price.
pub const INLINE_CLAIM_MS: u64 = 10_000;

impl Task {
    /// Takes the first step job out of a new task's `effects` for the creating request to run,
    /// with the lease's deadline set for a hand-over instead of a queue message. `also_queue`
    /// (fault injection `duplicate`) leaves its message to be sent as well, so that two runners
    /// race for the one job, which must change nothing.
    pub fn hand_over_first(&mut self, effects: &mut Effects, tick: &Tick, also_queue: bool) -> Option<JobRef> {
        let at = effects.enqueue.iter().position(|j| matches!(j, JobRef::Step { .. }))?;
        let job = if also_queue { effects.enqueue[at] } else { effects.enqueue.remove(at) };
        if let JobRef::Step { image, step } = job {
            self.images[image].steps[step].lease.hand_over(tick.ms, INLINE_CLAIM_MS);
        }
        Some(job)
    }
}
