//! The task state machine, pure: each transition takes the stored [`Task`] and a [`Tick`] and
//! returns the events to append and the jobs to send. The Durable Object only persists and
//! delivers what these modules decide, so every rule is unit-tested natively.
//!
//! This module holds creation and the per-job transitions (claim, complete, give up);
//! [`super::lifecycle`] decides when the task as a whole ends, [`super::watchdog`] what happens
//! to jobs that went silent.

use super::events::{Event, Progress, PublicOutput, StepError};
use super::lease::{backoff_seconds, JobStatus, Lease};
pub use super::model::*;
use crate::ids::ImageId;
use crate::messages::{Claimed, Completion, CompletionResponse, JobRef, Outcome, Work};

impl Task {
    /// A new task: cached images are done at once, every other image's first step is queued.
    pub fn new(new: NewTask, tick: &Tick) -> (Task, Effects) {
        let steps = new.chain.len();
        let fresh =
            StepState { lease: Lease::default(), duration_ms: None, memory_bytes: None, cached: false, checkpoint: false, region: None };
        let cached_step = StepState { lease: Lease { status: JobStatus::Succeeded, ..Lease::default() }, cached: true, ..fresh.clone() };
        let several = new.images.len() > 1;
        let images = new
            .images
            .into_iter()
            .map(|n| match n.cached {
                Some(out) => TaskImage { image: n.image, steps: vec![cached_step.clone(); steps], output: Some(out) },
                None => TaskImage { image: n.image, steps: vec![fresh.clone(); steps], output: None },
            })
            .collect();
        let mut task = Task {
            id: new.id,
            tenant: new.tenant,
            status: TaskStatus::Queued,
            created_at: tick.iso.clone(),
            updated_at: tick.iso.clone(),
            chain: new.chain,
            images,
            error: None,
            cancel_requested: false,
            archive: several.then(Archive::default),
            webhook: new.webhook.map(|url| Webhook { url, lease: Lease::default() }),
            fingerprint: new.fingerprint,
            expired_at: None,
        };
        let mut effects = Effects::default();
        effects.events.push(Event::TaskQueued { progress: task.progress() });
        for index in 0..task.images.len() {
            if task.images[index].output.is_some() {
                effects.events.extend(task.cached_events(index));
            } else {
                task.images[index].steps[0].lease.dispatch(tick.ms, 0, tick.policy);
                effects.enqueue.push(JobRef::Step { image: index, step: 0 });
            }
        }
        effects.extend(task.settle(tick));
        (task, effects)
    }

    /// `step.succeeded` with `cached: true` for every step of a reused image; the stored
    /// result's box goes to the chain's last step that reports one.
    fn cached_events(&self, index: usize) -> Vec<Event> {
        let id = self.images[index].image.id.clone();
        let progress = self.progress();
        let region = self.images[index].output.as_ref().and_then(|o| o.region);
        let boxed = self.chain.steps().iter().rposition(functions::Step::reports_box);
        self.chain
            .steps()
            .iter()
            .enumerate()
            .map(|(step, s)| Event::StepSucceeded {
                image: id.clone(),
                step,
                op: s.op().to_string(),
                duration_ms: 0,
                memory_bytes: 0,
                progress,
                cached: true,
                region: region.filter(|_| boxed == Some(step)),
            })
            .collect()
    }

    pub fn progress(&self) -> Progress {
        let done = self.images.iter().flat_map(|i| &i.steps).filter(|s| s.lease.status == JobStatus::Succeeded).count();
        Progress { done, total: self.images.len() * self.chain.len() }
    }

    pub(super) fn step_state(&self, image: usize, step: usize) -> Option<&StepState> {
        self.images.get(image)?.steps.get(step)
    }

    pub(super) fn op(&self, step: usize) -> String {
        self.chain.steps()[step].op().to_string()
    }

    pub(super) fn image_id(&self, image: usize) -> ImageId {
        self.images[image].image.id.clone()
    }

    /// A delivered job asks to run. `None` means skip: the job is running or done (a duplicate
    /// delivery), a step's predecessor has not finished (a stray message), or the task ended
    /// or is being cancelled.
    pub fn claim(&mut self, job: JobRef, tick: &Tick) -> (Option<Claimed>, Effects) {
        let claimed = match job {
            JobRef::Step { image, step } => self.claim_step(image, step, tick),
            JobRef::Package => self.claim_package(tick),
            JobRef::Webhook => self.claim_webhook(tick),
        };
        match claimed {
            None => (None, Effects::default()),
            Some((claimed, events)) => {
                self.updated_at = tick.iso.clone();
                (Some(claimed), Effects { events, enqueue: Vec::new() })
            }
        }
    }

    pub(super) fn claim_step(&mut self, image: usize, step: usize, tick: &Tick) -> Option<(Claimed, Vec<Event>)> {
        let ready = step == 0 || self.step_state(image, step - 1).is_some_and(|s| s.lease.status == JobStatus::Succeeded);
        if self.status.is_terminal() || self.cancel_requested || !ready || self.step_state(image, step).is_none() {
            return None;
        }
        let attempt = self.images[image].steps[step].lease.claim(tick.ms, tick.policy)?;
        self.status = TaskStatus::Running;
        let event = Event::StepStarted { image: self.image_id(image), step, op: self.op(step), attempt };
        let work = Work::Step(self.step_spec(image, step));
        Some((Claimed { attempt, work }, vec![event]))
    }

    /// Records a finished attempt; the answer says after how many seconds to retry the step,
    /// if at all, or — when the report asks to `proceed` — the attempt of the next step, claimed
    /// in place for the reporting job. Reports from an attempt that is not the latest
    /// (duplicates, stale runs) and reports after the task ended change nothing and emit nothing.
    pub fn report(&mut self, done: Completion, tick: &Tick) -> (Effects, CompletionResponse) {
        let Completion { job, attempt, outcome, checkpointed, proceed } = done;
        let (mut effects, answer) = match job {
            JobRef::Step { image, step } => {
                let current = self.step_state(image, step).is_some_and(|s| s.lease.is_current(attempt));
                if self.status.is_terminal() || !current {
                    return (Effects::default(), CompletionResponse::default());
                }
                self.complete_step(image, step, outcome, checkpointed, proceed, tick)
            }
            JobRef::Package => retry_after(self.complete_package(attempt, outcome, tick)),
            JobRef::Webhook => retry_after(self.complete_webhook(attempt, outcome, tick)),
        };
        if !effects.is_empty() || answer != CompletionResponse::default() {
            self.updated_at = tick.iso.clone();
        }
        effects.extend(self.settle(tick));
        (effects, answer)
    }

    fn complete_step(
        &mut self,
        image: usize,
        step: usize,
        outcome: Outcome,
        checkpointed: bool,
        proceed: bool,
        tick: &Tick,
    ) -> (Effects, CompletionResponse) {
        let mut effects = Effects::default();
        match outcome {
            Outcome::Succeeded { content_type, width, height, bytes, duration_ms, memory_bytes, region } => {
                let state = &mut self.images[image].steps[step];
                state.lease.succeed();
                (state.duration_ms, state.memory_bytes, state.checkpoint) = (Some(duration_ms), Some(memory_bytes), checkpointed);
                state.region = region;
                let (image_id, op, progress) = (self.image_id(image), self.op(step), self.progress());
                let event = Event::StepSucceeded { image: image_id, step, op, duration_ms, memory_bytes, progress, cached: false, region };
                effects.events.push(event);
                let mut answer = CompletionResponse::default();
                if step + 1 < self.chain.len() {
                    if !self.cancel_requested {
                        let next = &mut self.images[image].steps[step + 1].lease;
                        next.dispatch(tick.ms, 0, tick.policy);
                        if proceed {
                            // The reporting job goes on with the pixels it holds: the claim a
                            // message would have made, made here, with the same event.
                            answer.next_attempt = next.claim(tick.ms, tick.policy);
                            let attempt = answer.next_attempt.unwrap_or_default();
                            let (image_id, op) = (self.image_id(image), self.op(step + 1));
                            effects.events.push(Event::StepStarted { image: image_id, step: step + 1, op, attempt });
                        } else {
                            effects.enqueue.push(JobRef::Step { image, step: step + 1 });
                        }
                    }
                } else {
                    let key = self.output_key(image, step);
                    // The box of the chain's last content-aware step, whichever job ran it.
                    let region = self.images[image].steps.iter().rev().find_map(|s| s.region);
                    self.images[image].output = Some(Output { key, content_type, width, height, bytes, region });
                }
                (effects, answer)
            }
            Outcome::Transient { message } => retry_after(self.retry_step(image, step, "transient", message, tick)),
            Outcome::Failed { code, message } => retry_after((self.fail(Some((image, step)), code, message, tick), None)),
            Outcome::Packaged { .. } | Outcome::Delivered => retry_after((
                self.fail(Some((image, step)), "internal".into(), "a step reported a result of another kind".into(), tick),
                None,
            )),
        }
    }

    /// A transient failure: another attempt after a backoff, or failure once the budget is spent.
    fn retry_step(&mut self, image: usize, step: usize, code: &str, message: String, tick: &Tick) -> (Effects, Option<u32>) {
        let lease = &mut self.images[image].steps[step].lease;
        if self.cancel_requested {
            // Nothing more runs; the task ends as cancelled in `settle`.
            *lease = Lease { status: JobStatus::Queued, deadline_ms: None, ..lease.clone() };
            return (Effects::default(), None);
        }
        if !lease.can_retry(tick.policy) {
            let why = format!("gave up after {} attempts; last error: {message}", lease.attempts);
            return (self.fail(Some((image, step)), "unavailable".into(), why, tick), None);
        }
        let delay_s = backoff_seconds(lease.attempts, tick.jitter);
        lease.dispatch(tick.ms, u64::from(delay_s) * 1000, tick.policy);
        let attempt = lease.attempts + 1;
        let event = Event::StepRetrying {
            image: self.image_id(image),
            step,
            op: self.op(step),
            attempt,
            delay_ms: u64::from(delay_s) * 1000,
            error: StepError { code: code.into(), message },
        };
        (Effects { events: vec![event], enqueue: Vec::new() }, Some(delay_s))
    }

    /// The queue gave up on a job (its message reached the dead-letter queue): fail it visibly
    /// rather than leave the task hanging.
    pub fn give_up(&mut self, job: JobRef, tick: &Tick) -> Effects {
        let why = "the job kept failing and the queue gave up on it after its retries".to_string();
        let mut effects = match job {
            JobRef::Step { image, step } => {
                let unfinished = self.step_state(image, step).is_some_and(|s| !s.lease.is_finished());
                if self.status.is_terminal() || !unfinished {
                    return Effects::default();
                }
                self.fail(Some((image, step)), "internal".into(), why, tick)
            }
            JobRef::Package if !self.status.is_terminal() => self.fail(None, "internal".into(), why, tick),
            JobRef::Package => return Effects::default(),
            JobRef::Webhook => {
                if let Some(w) = self.webhook.as_mut().filter(|w| !w.lease.is_finished()) {
                    w.lease.fail();
                }
                Effects::default()
            }
        };
        self.updated_at = tick.iso.clone();
        effects.extend(self.settle(tick));
        effects
    }

    pub fn public_outputs(&self) -> Vec<PublicOutput> {
        self.images
            .iter()
            .filter_map(|i| {
                let o = i.output.as_ref()?;
                Some(PublicOutput {
                    image: i.image.id.clone(),
                    content_type: o.content_type.clone(),
                    width: o.width,
                    height: o.height,
                    bytes: o.bytes,
                    region: o.region,
                })
            })
            .collect()
    }
}

/// The answer to a report that can only ask for a retry.
fn retry_after((effects, retry_in_s): (Effects, Option<u32>)) -> (Effects, CompletionResponse) {
    (effects, CompletionResponse { retry_in_s, next_attempt: None })
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
