//! When the task as a whole moves: failing, cancelling, packaging the zip once every image is
//! done, ending, and the completion webhook after the end.

use super::events::{Event, StepError, TaskError};
use super::lease::{backoff_seconds, JobStatus};
use super::model::{Effects, Output, Task, TaskStatus, Tick};
use super::names;
use super::view;
use crate::keys;
use crate::messages::{Claimed, JobRef, Outcome, PackageSpec, WebhookSpec, Work, ZipEntry};

impl Task {
    /// Ends the task when it can end: cancelled once nothing runs any more, succeeded once every
    /// image has its output (and the zip, for several images, is built — which it starts here).
    pub(super) fn settle(&mut self, tick: &Tick) -> Effects {
        if self.status.is_terminal() {
            return Effects::default();
        }
        if self.cancel_requested {
            return match self.anything_running() {
                true => Effects::default(),
                false => self.terminate(TaskStatus::Cancelled, Event::TaskCancelled { progress: self.progress() }, tick),
            };
        }
        if !self.images.iter().all(|i| i.output.is_some()) {
            return Effects::default();
        }
        match &mut self.archive {
            Some(archive) if archive.output.is_none() => {
                if archive.lease.status == JobStatus::Queued && !archive.lease.is_dispatched() && archive.lease.attempts == 0 {
                    archive.lease.dispatch(tick.ms, 0, tick.policy);
                    self.status = TaskStatus::Running;
                    return Effects { events: Vec::new(), enqueue: vec![JobRef::Package] };
                }
                Effects::default()
            }
            _ => {
                let event = Event::TaskSucceeded { outputs: self.public_outputs(), progress: self.progress() };
                self.terminate(TaskStatus::Succeeded, event, tick)
            }
        }
    }

    fn anything_running(&self) -> bool {
        self.images.iter().flat_map(|i| &i.steps).any(|s| s.lease.is_running())
            || self.archive.as_ref().is_some_and(|a| a.lease.is_running())
    }

    /// The terminal transition: status, the terminal event, and the webhook if one was asked for.
    fn terminate(&mut self, status: TaskStatus, event: Event, tick: &Tick) -> Effects {
        self.status = status;
        self.updated_at = tick.iso.clone();
        let mut effects = Effects { events: vec![event], enqueue: Vec::new() };
        if let Some(webhook) = &mut self.webhook {
            webhook.lease.dispatch(tick.ms, 0, tick.webhook_policy());
            effects.enqueue.push(JobRef::Webhook);
        }
        effects
    }

    /// Fails the task with the first permanent error; `at` is the (image, step) it came from.
    /// Other images stop: their claims are refused from now on.
    pub(super) fn fail(&mut self, at: Option<(usize, usize)>, code: String, message: String, tick: &Tick) -> Effects {
        let mut events = Vec::new();
        let error =
            TaskError { code: code.clone(), message: message.clone(), step: at.map(|a| a.1), image: at.map(|a| self.image_id(a.0)) };
        if let Some((image, step)) = at {
            self.images[image].steps[step].lease.fail();
            let (op, progress) = (self.op(step), self.progress());
            events.push(Event::StepFailed { image: self.image_id(image), step, op, error: StepError { code, message }, progress });
        } else if let Some(archive) = &mut self.archive {
            archive.lease.fail();
        }
        self.error = Some(error.clone());
        let mut effects = Effects { events, enqueue: Vec::new() };
        effects.extend(self.terminate(TaskStatus::Failed, Event::TaskFailed { error, progress: self.progress() }, tick));
        effects
    }

    /// `POST /tasks/{id}/cancel`: no new step starts; the task is cancelled as soon as no step is
    /// running (at once if none is). A finished task cannot be cancelled: `Err(its status)`.
    pub fn cancel(&mut self, tick: &Tick) -> Result<Effects, TaskStatus> {
        if self.status.is_terminal() {
            return Err(self.status);
        }
        if !self.cancel_requested {
            self.cancel_requested = true;
            self.updated_at = tick.iso.clone();
        }
        Ok(self.settle(tick))
    }

    pub(super) fn claim_package(&mut self, tick: &Tick) -> Option<(Claimed, Vec<Event>)> {
        if self.status.is_terminal() || self.cancel_requested {
            return None;
        }
        let attempt = self.archive.as_mut()?.lease.claim(tick.ms, tick.policy)?;
        let entries = names::output_names(&self.images)
            .into_iter()
            .zip(&self.images)
            .filter_map(|(name, image)| Some(ZipEntry { name, key: image.output.as_ref()?.key.clone() }))
            .collect();
        let work = Work::Package(PackageSpec { key: keys::archive(&self.id), entries });
        Some((Claimed { attempt, work }, Vec::new()))
    }

    pub(super) fn complete_package(&mut self, attempt: u32, outcome: Outcome, tick: &Tick) -> (Effects, Option<u32>) {
        let current = self.archive.as_ref().is_some_and(|a| a.lease.is_current(attempt));
        if self.status.is_terminal() || !current {
            return (Effects::default(), None);
        }
        let Some(archive) = self.archive.as_mut() else { return (Effects::default(), None) };
        match outcome {
            Outcome::Packaged { bytes } => {
                archive.lease.succeed();
                let key = keys::archive(&self.id);
                archive.output = Some(Output { key, content_type: "application/zip".into(), width: 0, height: 0, bytes, region: None });
                (Effects::default(), None)
            }
            Outcome::Transient { message } if !self.cancel_requested => {
                if !archive.lease.can_retry(tick.policy) {
                    let why = format!("building the zip failed {} times; last error: {message}", archive.lease.attempts);
                    return (self.fail(None, "unavailable".into(), why, tick), None);
                }
                let delay_s = backoff_seconds(archive.lease.attempts, tick.jitter);
                archive.lease.dispatch(tick.ms, u64::from(delay_s) * 1000, tick.policy);
                (Effects::default(), Some(delay_s))
            }
            Outcome::Transient { .. } => {
                archive.lease.fail();
                (Effects::default(), None)
            }
            Outcome::Failed { code, message } => (self.fail(None, code, message, tick), None),
            Outcome::Succeeded { .. } | Outcome::Delivered => {
                (self.fail(None, "internal".into(), "packaging reported a result of another kind".into(), tick), None)
            }
        }
    }

    pub(super) fn claim_webhook(&mut self, tick: &Tick) -> Option<(Claimed, Vec<Event>)> {
        if !self.status.is_terminal() {
            return None;
        }
        let policy = tick.webhook_policy();
        let body = view::public_task(self).to_string();
        let event = terminal_event_type(self.status);
        let webhook = self.webhook.as_mut()?;
        let attempt = webhook.lease.claim(tick.ms, policy)?;
        let work = Work::Webhook(WebhookSpec { url: webhook.url.clone(), event: event.into(), body });
        Some((Claimed { attempt, work }, Vec::new()))
    }

    pub(super) fn complete_webhook(&mut self, attempt: u32, outcome: Outcome, tick: &Tick) -> (Effects, Option<u32>) {
        let policy = tick.webhook_policy();
        let Some(webhook) = self.webhook.as_mut().filter(|w| w.lease.is_current(attempt)) else {
            return (Effects::default(), None);
        };
        match outcome {
            Outcome::Delivered => webhook.lease.succeed(),
            Outcome::Transient { .. } if webhook.lease.can_retry(policy) => {
                let delay_s = backoff_seconds(webhook.lease.attempts, tick.jitter);
                webhook.lease.dispatch(tick.ms, u64::from(delay_s) * 1000, policy);
                return (Effects::default(), Some(delay_s));
            }
            _ => webhook.lease.fail(),
        }
        (Effects::default(), None)
    }
}

/// The contract's event type for a terminal status.
pub fn terminal_event_type(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Succeeded => "task.succeeded",
        TaskStatus::Failed => "task.failed",
        TaskStatus::Cancelled => "task.cancelled",
        TaskStatus::Queued | TaskStatus::Running => "task.updated",
    }
}
