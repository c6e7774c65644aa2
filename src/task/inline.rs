//! Handing a new task's first job, already claimed, to the request that created it instead of
//! sending it to the queue.
//!
//! Why: a queue delivery is a hop before the first step can start — about 6 ms under
//! `wrangler dev`, tens to hundreds of ms on the platform — and for a small image that hop is
//! a large part of the whole task. The claim a delivered message would make is made here too,
//! inside the creation (its `step.started` is in the same write), which saves the object
//! round trip a separate claim would cost. The creating request runs the job after its answer
//! (`wait_until`) through the same reports a delivered message would use, so events,
//! exactly-once effects and retries are unchanged.
//!
//! What keeps it safe: the handed-over job is a running job like any other, except that its
//! deadline is [`INLINE_RUN_MS`] when that is shorter than the step timeout: a request's
//! `wait_until` work ends 30 s after its answer, so a creator silent longer than that is gone.
//! The watchdog then finds the job silent and retries it through the queue (a new attempt, so
//! a late report of the lost run is told apart). Everything after the first job (retries,
//! later images, the zip, the webhook) goes through the queue as before.

use super::model::{Effects, Task, Tick};
use crate::messages::{Claimed, JobRef};

/// How long a handed-over job may stay silent before the watchdog retries it: the 30 s the
/// platform gives a request's `wait_until` work after its answer, and 5 s to spare. (A job
/// that ran 15 s already leaves the rest of its chain to the queue, see `consumer::timings`.)
pub const INLINE_RUN_MS: u64 = 35_000;

impl Task {
    /// Claims the first step job of a new task's `effects` for the creating request to run:
    /// takes it out of the jobs to enqueue and adds its `step.started` to the events. `also_queue`
    /// (fault injection `duplicate`) leaves its message to be sent as well, so that a second
    /// runner races for the one job, which must change nothing (that runner's claim is refused).
    pub fn hand_over_first(&mut self, effects: &mut Effects, tick: &Tick, also_queue: bool) -> Option<(JobRef, Claimed)> {
        let at = effects.enqueue.iter().position(|j| matches!(j, JobRef::Step { .. }))?;
        let job = effects.enqueue[at];
        let JobRef::Step { image, step } = job else { return None };
        let (claimed, events) = self.claim_step(image, step, tick)?;
        let lease = &mut self.images[image].steps[step].lease;
        lease.deadline_ms = Some(tick.ms + tick.policy.timeout_ms.min(INLINE_RUN_MS));
        if !also_queue {
            effects.enqueue.remove(at);
        }
        effects.events.extend(events);
        Some((job, claimed))
    }
}
