//! Leases: how the task object tracks one dispatched job (a step, the zip, the webhook) through
//! queued → running → done, numbers its attempts, and notices when it went silent.
//!
//! A deadline is set exactly while a message or a run is outstanding: queued with a message in
//! the queue (it must be picked up by then) or running (it must report by then). The watchdog
//! only ever looks at deadlines, so a job that was never dispatched cannot be "overdue".

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// Retry rules for one kind of job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long a claimed run may stay silent before the watchdog retries it.
    pub timeout_ms: u64,
    /// How long a message may wait in the queue unclaimed before it is sent again (doubling
    /// with each re-send). Separate from `timeout_ms` and much longer: a message the queue
    /// accepted is durable, so waiting is the queue's backlog, not a loss, and re-sending it
    /// would only lengthen the backlog. A send that failed is retried at once instead
    /// ([`Lease::expedite`]).
    pub queue_timeout_ms: u64,
    /// Attempts after the first one (transient failures and timeouts both spend them).
    pub max_retries: u32,
}

/// A queued message may be re-sent this many times when it is never picked up (lost with a
/// restarted queue, say) before the job is declared failed: every task must end. With the
/// doubling wait that is 63× `queue_timeout_ms` in all (10.5 h at the default 10 min).
pub const MAX_REDISPATCHES: u32 = 5;

/// After a failed send, the watchdog re-sends this soon at first; then after as long as the
/// sends have been failing (a doubling), at most [`SEND_RETRY_MAX_MS`] apart.
pub const SEND_RETRY_MS: u64 = 2_000;
/// The longest wait between re-sends while the queue refuses messages.
pub const SEND_RETRY_MAX_MS: u64 = 30_000;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub status: JobStatus,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub redispatches: u32,
    /// Since when the queue has been refusing this job's message, while the last send failed
    /// or until it is claimed. Failed sends are not re-sends of a lost message: they do not
    /// spend `redispatches` (a short queue outage would otherwise fail tasks within seconds),
    /// and the job fails only once they have gone on for the queue timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsent_since_ms: Option<u64>,
    /// Whether the latest send of the message failed (the deadline is the re-send's).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub send_failed: bool,
}

/// What the watchdog found about an overdue lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overdue {
    /// Dispatched but never claimed: the message was lost or the queue is far behind.
    Unclaimed,
    /// The queue refused the message: it was never in the queue.
    Unsent,
    /// Claimed but silent: the consumer most likely died mid-run.
    Silent,
}

impl Default for Lease {
    fn default() -> Self {
        Lease { status: JobStatus::Queued, attempts: 0, deadline_ms: None, redispatches: 0, unsent_since_ms: None, send_failed: false }
    }
}

impl Lease {
    /// A message for this job is (again) in the queue, deliverable after `delay_ms`.
    pub fn dispatch(&mut self, now_ms: u64, delay_ms: u64, policy: Policy) {
        self.status = JobStatus::Queued;
        self.send_failed = false;
        let wait = policy.queue_timeout_ms.saturating_mul(1 << self.redispatches.min(MAX_REDISPATCHES));
        self.deadline_ms = Some(now_ms.saturating_add(delay_ms).saturating_add(wait));
    }

    /// The message was never picked up (lost, or the queue far behind): send it again and wait
    /// longer. It had been accepted, so the queue was taking messages then.
    pub fn redispatch(&mut self, now_ms: u64, policy: Policy) {
        self.redispatches += 1;
        self.unsent_since_ms = None;
        self.dispatch(now_ms, 0, policy);
    }

    /// The message for this queued job could not be sent: have the watchdog send it again
    /// soon rather than after the queue timeout, backing off while the failures go on.
    pub fn expedite(&mut self, now_ms: u64) {
        if self.status == JobStatus::Queued && self.is_dispatched() {
            let since = *self.unsent_since_ms.get_or_insert(now_ms);
            let wait = now_ms.saturating_sub(since).clamp(SEND_RETRY_MS, SEND_RETRY_MAX_MS);
            self.send_failed = true;
            self.deadline_ms = Some(now_ms.saturating_add(wait));
        }
    }

    /// How long the queue has been refusing this job's message, at `now_ms`.
    pub fn unsent_for_ms(&self, now_ms: u64) -> u64 {
        self.unsent_since_ms.map_or(0, |since| now_ms.saturating_sub(since))
    }

    pub fn is_dispatched(&self) -> bool {
        self.deadline_ms.is_some()
    }

    /// A delivered message asks to run. Only a dispatched, queued job may start; the new
    /// attempt's number is returned. A second message for a running job gets `None` — that is
    /// what keeps a duplicated delivery from running (and announcing) the job twice.
    pub fn claim(&mut self, now_ms: u64, policy: Policy) -> Option<u32> {
        if self.status != JobStatus::Queued || !self.is_dispatched() {
            return None;
        }
        self.status = JobStatus::Running;
        self.attempts += 1;
        (self.unsent_since_ms, self.send_failed) = (None, false);
        self.deadline_ms = Some(now_ms.saturating_add(policy.timeout_ms));
        Some(self.attempts)
    }

    /// Whether a report quoting `attempt` is about the latest attempt. A late success of an
    /// attempt the watchdog already re-queued still counts: its output is just as good.
    pub fn is_current(&self, attempt: u32) -> bool {
        attempt > 0 && attempt == self.attempts && matches!(self.status, JobStatus::Running | JobStatus::Queued)
    }

    pub fn is_running(&self) -> bool {
        self.status == JobStatus::Running
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.status, JobStatus::Succeeded | JobStatus::Failed)
    }

    pub fn succeed(&mut self) {
        self.status = JobStatus::Succeeded;
        self.deadline_ms = None;
    }

    pub fn fail(&mut self) {
        self.status = JobStatus::Failed;
        self.deadline_ms = None;
    }

    /// Whether another attempt is allowed after the ones made so far.
    pub fn can_retry(&self, policy: Policy) -> bool {
        self.attempts <= policy.max_retries
    }

    pub fn overdue(&self, now_ms: u64) -> Option<Overdue> {
        match (self.status, self.deadline_ms) {
            (JobStatus::Queued, Some(d)) if d <= now_ms && self.send_failed => Some(Overdue::Unsent),
            (JobStatus::Queued, Some(d)) if d <= now_ms => Some(Overdue::Unclaimed),
            (JobStatus::Running, Some(d)) if d <= now_ms => Some(Overdue::Silent),
            _ => None,
        }
    }
}

/// Exponential backoff with "equal jitter" for the retry after failed attempt `attempt`
/// (1-based): half the exponential step is fixed, half random (`jitter` in [0, 1)), so retries
/// of many jobs that failed together spread out. Whole seconds, because queue delays are.
pub fn backoff_seconds(attempt: u32, jitter: f64) -> u32 {
    const BASE_S: f64 = 1.0;
    const CAP_S: f64 = 300.0;
    let step = (BASE_S * 2f64.powi(attempt.saturating_sub(1).min(16) as i32)).min(CAP_S);
    let jitter = jitter.clamp(0.0, 1.0);
    (step / 2.0 + jitter * step / 2.0).ceil().max(1.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy { timeout_ms: 1_000, queue_timeout_ms: 1_000, max_retries: 2 };

    #[test]
    fn only_a_dispatched_queued_job_can_be_claimed_and_only_once() {
        let mut l = Lease::default();
        assert_eq!(l.claim(0, P), None, "never dispatched");
        l.dispatch(0, 0, P);
        assert_eq!(l.claim(5, P), Some(1));
        assert_eq!(l.claim(6, P), None, "a duplicate delivery while running");
        assert_eq!(l.deadline_ms, Some(1_005));
    }

    #[test]
    fn deadlines_tell_unclaimed_from_silent() {
        let mut l = Lease::default();
        assert_eq!(l.overdue(u64::MAX), None, "not dispatched: never overdue");
        l.dispatch(0, 500, P);
        assert_eq!(l.overdue(1_499), None);
        assert_eq!(l.overdue(1_500), Some(Overdue::Unclaimed));
        l.claim(1_500, P);
        assert_eq!(l.overdue(2_500), Some(Overdue::Silent));
        l.succeed();
        assert_eq!(l.overdue(u64::MAX), None);
    }

    #[test]
    fn a_queued_message_waits_the_queue_timeout_doubling_with_each_resend_not_the_step_timeout() {
        let policy = Policy { timeout_ms: 1_000, queue_timeout_ms: 60_000, max_retries: 2 };
        let mut l = Lease::default();
        l.dispatch(0, 0, policy);
        assert_eq!(l.overdue(59_999), None, "a backlog longer than the step timeout is not a loss");
        assert_eq!(l.overdue(60_000), Some(Overdue::Unclaimed));
        l.redispatches += 1;
        l.dispatch(60_000, 0, policy);
        assert_eq!(l.deadline_ms, Some(180_000), "the second wait is twice as long");
        assert_eq!(l.claim(100_000, policy), Some(1));
        assert_eq!(l.deadline_ms, Some(101_000), "running: the step timeout");
    }

    #[test]
    fn a_failed_send_is_retried_soon_and_only_for_a_queued_job() {
        let policy = Policy { timeout_ms: 1_000, queue_timeout_ms: 600_000, max_retries: 2 };
        let mut l = Lease::default();
        l.expedite(0);
        assert_eq!(l.deadline_ms, None, "never dispatched: nothing to re-send");
        l.dispatch(0, 0, policy);
        l.expedite(10);
        assert_eq!(l.overdue(10 + SEND_RETRY_MS), Some(Overdue::Unsent));
        l.claim(20, policy);
        l.expedite(30);
        assert_eq!(l.deadline_ms, Some(1_020), "a running job keeps its own deadline");
    }

    #[test]
    fn failed_sends_back_off_as_long_as_they_have_failed_and_a_claim_forgets_them() {
        let policy = Policy { timeout_ms: 1_000, queue_timeout_ms: 600_000, max_retries: 2 };
        let mut l = Lease::default();
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 0..7 {
            l.dispatch(now, 0, policy);
            l.expedite(now);
            let due = l.deadline_ms.expect("a re-send is due");
            waits.push(due - now);
            now = due;
        }
        assert_eq!(waits, [2_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
        assert_eq!((l.redispatches, l.unsent_for_ms(now)), (0, 92_000), "no re-send of a lost message was spent");
        l.dispatch(now, 0, policy);
        assert_eq!(l.overdue(now + 600_000), Some(Overdue::Unclaimed), "sent at last: lost only if never claimed");
        l.claim(now + 1, policy);
        assert_eq!((l.unsent_since_ms, l.send_failed), (None, false));
    }

    #[test]
    fn retries_are_bounded_by_the_policy() {
        let mut l = Lease::default();
        for attempt in 1..=3 {
            l.dispatch(0, 0, P);
            assert_eq!(l.claim(0, P), Some(attempt));
        }
        assert!(!l.can_retry(P), "1 attempt + 2 retries spent");
    }

    #[test]
    fn stale_attempts_are_not_current() {
        let mut l = Lease::default();
        l.dispatch(0, 0, P);
        l.claim(0, P);
        l.dispatch(0, 0, P);
        l.claim(0, P);
        assert!(!l.is_current(1) && l.is_current(2) && !l.is_current(0));
    }

    #[test]
    fn backoff_grows_exponentially_within_its_jitter_band_and_is_capped() {
        assert_eq!(backoff_seconds(1, 0.0), 1);
        assert_eq!(backoff_seconds(1, 0.99), 1);
        assert_eq!((backoff_seconds(3, 0.0), backoff_seconds(3, 0.999)), (2, 4));
        assert!((4..=8).contains(&backoff_seconds(4, 0.5)));
        assert_eq!(backoff_seconds(40, 1.0), 300);
    }
}
