//! A step's progress while it runs: each encode of an `encode` step's `max_bytes` search
//! becomes a `step.progress` event, so a subscriber sees a long search move (up to six encodes,
//! each most of a second for a large lossy WebP) rather than a step that seems stuck.

use super::events::Event;
use super::model::{Effects, Task, Tick};
use crate::messages::StepProgress;

impl Task {
    /// The event for one encode of a running step's search. Nothing from an attempt that is not
    /// the step's latest running one (a stale run, a duplicate), or once the task has ended or
    /// is being cancelled: the stream then only says what still matters.
    pub fn step_progress(&mut self, progress: StepProgress, tick: &Tick) -> Effects {
        let StepProgress { image, step, attempt, search } = progress;
        let running = self.step_state(image, step).is_some_and(|s| s.lease.is_running() && s.lease.is_current(attempt));
        if self.status.is_terminal() || self.cancel_requested || !running {
            return Effects::default();
        }
        self.updated_at = tick.iso.clone();
        let event = Event::StepProgress { image: self.image_id(image), step, op: self.op(step), attempt, search };
        Effects { events: vec![event], enqueue: Vec::new() }
    }
}
