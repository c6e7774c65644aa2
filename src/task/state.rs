//! The task state machine, pure: each transition takes the stored [`Task`] and returns the
//! events to append and the step messages to enqueue. The Durable Object only persists and
//! delivers what this module decides, so every rule here is unit-tested natively.

use super::events::{Event, Progress, PublicOutput, StepError, TaskError};
use crate::ids::{ImageId, TaskId, TenantId};
use crate::keys;
use crate::messages::{Outcome, RunSpec, StepMessage};
use functions::{Chain, Format};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl TaskStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Cancelled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepState {
    pub status: StepStatus,
    pub attempts: u32,
    pub duration_ms: Option<u64>,
    pub memory_bytes: Option<u64>,
}

/// A finished image's output, with the key it is stored under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    pub key: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// The image as the task knows it (copied from the upload at creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    pub id: ImageId,
    pub name: String,
    pub format: Format,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskImage {
    pub image: ImageRef,
    pub steps: Vec<StepState>,
    pub output: Option<Output>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub tenant: TenantId,
    pub status: TaskStatus,
    pub created_at: String,
    pub updated_at: String,
    pub chain: Chain,
    pub images: Vec<TaskImage>,
    pub error: Option<TaskError>,
}

/// What a transition asks the object to do.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    pub events: Vec<Event>,
    pub enqueue: Vec<StepMessage>,
}

impl Task {
    /// A new task: every image's first step is queued.
    pub fn new(id: TaskId, tenant: TenantId, chain: Chain, images: Vec<ImageRef>, now: &str) -> (Task, Effects) {
        let fresh = StepState { status: StepStatus::Queued, attempts: 0, duration_ms: None, memory_bytes: None };
        let images: Vec<TaskImage> = images
            .into_iter()
            .map(|image| TaskImage { image, steps: vec![fresh.clone(); chain.len()], output: None })
            .collect();
        let enqueue = (0..images.len()).map(|i| StepMessage { task: id.clone(), image: i, step: 0 }).collect();
        let task = Task {
            id,
            tenant,
            status: TaskStatus::Queued,
            created_at: now.to_string(),
            updated_at: now.to_string(),
            chain,
            images,
            error: None,
        };
        let events = vec![Event::TaskQueued { progress: task.progress() }];
        (task, Effects { events, enqueue })
    }

    pub fn progress(&self) -> Progress {
        let done = self.images.iter().flat_map(|i| &i.steps).filter(|s| s.status == StepStatus::Succeeded).count();
        Progress { done, total: self.images.len() * self.chain.len() }
    }

    fn step_state(&self, image: usize, step: usize) -> Option<&StepState> {
        self.images.get(image)?.steps.get(step)
    }

    /// A delivered step asks to run; each claim is a new attempt with its own number. `None`
    /// means skip: the task ended, the step already finished (a duplicate delivery), or its
    /// predecessor has not (a stray message).
    pub fn claim(&mut self, image: usize, step: usize, now: &str) -> (Option<RunSpec>, Effects) {
        let runnable = !self.status.is_terminal()
            && self.step_state(image, step).is_some_and(|s| matches!(s.status, StepStatus::Queued | StepStatus::Running))
            && (step == 0 || self.step_state(image, step - 1).is_some_and(|s| s.status == StepStatus::Succeeded));
        if !runnable {
            return (None, Effects::default());
        }
        let op = self.chain.steps()[step].op().to_string();
        let img = &mut self.images[image];
        let state = &mut img.steps[step];
        state.status = StepStatus::Running;
        state.attempts += 1;
        let attempt = state.attempts;
        let event = Event::StepStarted { image: img.image.id.clone(), step, op, attempt };
        let chain_step = &self.chain.steps()[step];
        let aux = chain_step
            .aux_images()
            .into_iter()
            .filter_map(|id| ImageId::parse(id).ok())
            .map(|id| (id.to_string(), keys::original(&self.tenant, &id)))
            .collect();
        let spec = RunSpec {
            attempt,
            step: chain_step.clone(),
            is_first: step == 0,
            aux,
            is_last: step + 1 == self.chain.len(),
            source_format: img.image.format,
            input_key: match step {
                0 => keys::original(&self.tenant, &img.image.id),
                _ => keys::step_output(&self.id, image, step - 1),
            },
            output_key: keys::step_output(&self.id, image, step),
        };
        self.status = TaskStatus::Running;
        self.updated_at = now.to_string();
        (Some(spec), Effects { events: vec![event], enqueue: Vec::new() })
    }

    /// Records a finished attempt. Reports for steps that are not running, or from an attempt
    /// that is no longer the latest (duplicates, stale runs, or after the task ended) change
    /// nothing and emit nothing.
    pub fn complete(&mut self, image: usize, step: usize, attempt: u32, outcome: Outcome, now: &str) -> Effects {
        let current = |s: &StepState| s.status == StepStatus::Running && s.attempts == attempt;
        if self.status.is_terminal() || !self.step_state(image, step).is_some_and(current) {
            return Effects::default();
        }
        self.updated_at = now.to_string();
        match outcome {
            Outcome::Succeeded { content_type, width, height, bytes, duration_ms, memory_bytes } => {
                let key = keys::step_output(&self.id, image, step);
                let state = &mut self.images[image].steps[step];
                (state.status, state.duration_ms, state.memory_bytes) =
                    (StepStatus::Succeeded, Some(duration_ms), Some(memory_bytes));
                let mut effects = Effects::default();
                effects.events.push(Event::StepSucceeded {
                    image: self.images[image].image.id.clone(),
                    step,
                    op: self.chain.steps()[step].op().to_string(),
                    duration_ms,
                    memory_bytes,
                    progress: self.progress(),
                });
                if step + 1 < self.chain.len() {
                    effects.enqueue.push(StepMessage { task: self.id.clone(), image, step: step + 1 });
                } else {
                    self.images[image].output = Some(Output { key, content_type, width, height, bytes });
                    if self.images.iter().all(|i| i.output.is_some()) {
                        self.status = TaskStatus::Succeeded;
                        effects.events.push(Event::TaskSucceeded { outputs: self.public_outputs(), progress: self.progress() });
                    }
                }
                effects
            }
            Outcome::Failed { code, message } => self.fail(image, step, code, message),
        }
    }

    /// The queue gave up on a step (its message reached the dead-letter queue): fail it
    /// visibly rather than leave the task hanging.
    pub fn give_up(&mut self, image: usize, step: usize, now: &str) -> Effects {
        let unfinished = |s: &StepState| s.status != StepStatus::Succeeded;
        if self.status.is_terminal() || !self.step_state(image, step).is_some_and(unfinished) {
            return Effects::default();
        }
        self.updated_at = now.to_string();
        self.fail(image, step, "internal".into(), "the step kept failing and was given up after its retries".into())
    }

    fn fail(&mut self, image: usize, step: usize, code: String, message: String) -> Effects {
        self.images[image].steps[step].status = StepStatus::Failed;
        self.status = TaskStatus::Failed;
        let image_id = self.images[image].image.id.clone();
        let error = TaskError { code: code.clone(), message: message.clone(), step, image: image_id.clone() };
        self.error = Some(error.clone());
        let op = self.chain.steps()[step].op().to_string();
        let progress = self.progress();
        let events = vec![
            Event::StepFailed { image: image_id, step, op, error: StepError { code, message }, progress },
            Event::TaskFailed { error, progress },
        ];
        Effects { events, enqueue: Vec::new() }
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
                })
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
