//! The watchdog, pure: run from the object's alarm, it finds jobs whose deadline passed — a
//! message never picked up, a run that never reported (its consumer died) — and re-sends them,
//! or fails them once their budget is spent, so that every task ends.

use super::events::{Event, StepError};
use super::lease::{Lease, Overdue, Policy, MAX_REDISPATCHES};
use super::model::{Effects, Task, Tick};
use crate::messages::JobRef;

/// What to do with one overdue lease.
enum Verdict {
    /// Send the message again (no new attempt yet; the claim will number it).
    Redispatch,
    /// The queue refused the last send: try it again, spending nothing.
    Resend,
    /// The run went silent: a new attempt, announced as a retry.
    Retry,
    /// The budget is spent.
    Fail(&'static str, String),
    /// Cancellation was asked for: stop waiting for the silent run.
    Abandon,
}

fn judge(lease: &Lease, overdue: Overdue, cancelling: bool, policy: Policy, now_ms: u64) -> Verdict {
    let (can_retry, timeout_ms) = (lease.can_retry(policy), policy.timeout_ms);
    match overdue {
        _ if cancelling => Verdict::Abandon,
        Overdue::Unsent if lease.unsent_for_ms(now_ms) < policy.queue_timeout_ms => Verdict::Resend,
        Overdue::Unsent => Verdict::Fail("unavailable", format!("the queue refused the job for {} s", lease.unsent_for_ms(now_ms) / 1000)),
        Overdue::Unclaimed if lease.redispatches < MAX_REDISPATCHES => Verdict::Redispatch,
        Overdue::Unclaimed => {
            Verdict::Fail("unavailable", format!("the job was sent {} times and never picked up", lease.redispatches + 1))
        }
        Overdue::Silent if can_retry => Verdict::Retry,
        Overdue::Silent => Verdict::Fail("timeout", format!("attempt {} did not report within {} s", lease.attempts, timeout_ms / 1000)),
    }
}

impl Task {
    /// The earliest deadline the alarm must wake up for, if any.
    pub fn next_deadline(&self) -> Option<u64> {
        let work = (!self.status.is_terminal())
            .then(|| {
                let steps = self.images.iter().flat_map(|i| &i.steps).filter_map(|s| s.lease.deadline_ms);
                steps.chain(self.archive.as_ref().and_then(|a| a.lease.deadline_ms)).min()
            })
            .flatten();
        let webhook = self.webhook.as_ref().and_then(|w| w.lease.deadline_ms);
        work.into_iter().chain(webhook).min()
    }

    /// The messages for `jobs` could not be sent: the watchdog sends them again soon.
    pub fn expedite(&mut self, jobs: &[JobRef], now_ms: u64) {
        for job in jobs {
            let lease = match *job {
                JobRef::Step { image, step } => self.images.get_mut(image).and_then(|i| i.steps.get_mut(step)).map(|s| &mut s.lease),
                JobRef::Package => self.archive.as_mut().map(|a| &mut a.lease),
                JobRef::Webhook => self.webhook.as_mut().map(|w| &mut w.lease),
            };
            if let Some(lease) = lease {
                lease.expedite(now_ms);
            }
        }
    }

    /// Acts on every job overdue at `tick.ms`.
    pub fn expire(&mut self, tick: &Tick) -> Effects {
        let mut effects = Effects::default();
        if !self.status.is_terminal() {
            for image in 0..self.images.len() {
                for step in 0..self.chain.len() {
                    effects.extend(self.expire_step(image, step, tick));
                    if self.status.is_terminal() {
                        break;
                    }
                }
            }
        }
        effects.extend(self.expire_package(tick));
        effects.extend(self.expire_webhook(tick));
        effects.extend(self.settle(tick));
        effects
    }

    fn expire_step(&mut self, image: usize, step: usize, tick: &Tick) -> Effects {
        if self.status.is_terminal() {
            return Effects::default();
        }
        let lease = &self.images[image].steps[step].lease;
        let Some(overdue) = lease.overdue(tick.ms) else { return Effects::default() };
        let verdict = judge(lease, overdue, self.cancel_requested, tick.policy, tick.ms);
        self.updated_at = tick.iso.clone();
        let lease = &mut self.images[image].steps[step].lease;
        match verdict {
            Verdict::Abandon => {
                lease.deadline_ms = None;
                lease.status = super::lease::JobStatus::Queued;
                Effects::default()
            }
            Verdict::Redispatch => {
                lease.redispatch(tick.ms, tick.policy);
                Effects { events: Vec::new(), enqueue: vec![JobRef::Step { image, step }] }
            }
            Verdict::Resend => {
                lease.dispatch(tick.ms, 0, tick.policy);
                Effects { events: Vec::new(), enqueue: vec![JobRef::Step { image, step }] }
            }
            Verdict::Retry => {
                lease.dispatch(tick.ms, 0, tick.policy);
                let attempt = lease.attempts + 1;
                let message = format!("attempt {} did not report within {} s", attempt - 1, tick.policy.timeout_ms / 1000);
                let error = StepError { code: "timeout".into(), message };
                let event = Event::StepRetrying { image: self.image_id(image), step, op: self.op(step), attempt, delay_ms: 0, error };
                Effects { events: vec![event], enqueue: vec![JobRef::Step { image, step }] }
            }
            Verdict::Fail(code, message) => self.fail(Some((image, step)), code.into(), message, tick),
        }
    }

    fn expire_package(&mut self, tick: &Tick) -> Effects {
        let cancelling = self.cancel_requested;
        let Some(archive) = self.archive.as_mut().filter(|_| !self.status.is_terminal()) else { return Effects::default() };
        let Some(overdue) = archive.lease.overdue(tick.ms) else { return Effects::default() };
        match judge(&archive.lease, overdue, cancelling, tick.policy, tick.ms) {
            Verdict::Abandon => {
                archive.lease.fail();
                Effects::default()
            }
            Verdict::Redispatch => {
                archive.lease.redispatch(tick.ms, tick.policy);
                Effects { events: Vec::new(), enqueue: vec![JobRef::Package] }
            }
            Verdict::Resend | Verdict::Retry => {
                archive.lease.dispatch(tick.ms, 0, tick.policy);
                Effects { events: Vec::new(), enqueue: vec![JobRef::Package] }
            }
            Verdict::Fail(code, message) => self.fail(None, code.into(), message, tick),
        }
    }

    /// The webhook is retried or dropped quietly: the task itself has already ended.
    fn expire_webhook(&mut self, tick: &Tick) -> Effects {
        let policy = tick.webhook_policy();
        let Some(webhook) = self.webhook.as_mut() else { return Effects::default() };
        let Some(overdue) = webhook.lease.overdue(tick.ms) else { return Effects::default() };
        match judge(&webhook.lease, overdue, false, policy, tick.ms) {
            Verdict::Fail(..) | Verdict::Abandon => {
                webhook.lease.fail();
                Effects::default()
            }
            Verdict::Redispatch => {
                webhook.lease.redispatch(tick.ms, policy);
                Effects { events: Vec::new(), enqueue: vec![JobRef::Webhook] }
            }
            Verdict::Resend | Verdict::Retry => {
                webhook.lease.dispatch(tick.ms, 0, policy);
                Effects { events: Vec::new(), enqueue: vec![JobRef::Webhook] }
            }
        }
    }
}
