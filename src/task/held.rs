//! Reports a job held back and sent together: a cheap step's report waits for the next step's
//! (`consumer::hold`), and the object records both in one call, in order, exactly as if each had
//! come on its own.
//!
//! Why: every report is a round trip to this object on the isolate's one thread (~4–5 ms of a
//! 12 MP `thumbnail`'s ~60 under `wrangler dev`); the step after a shrink-on-load decode (the
//! preset's resize of a sub-megapixel raster) takes 1–4 ms, less than the report it follows.
//! A subscriber sees the same events in the same order, only a step's length (a few ms) later.

use super::model::{Effects, Task, Tick};
use crate::messages::{Completion, CompletionResponse};

impl Task {
    /// Records `reports` in order. Each one after the first ran as the attempt its
    /// predecessor's `proceed` claimed in place (the job could not know it: it held that
    /// report), so that is the attempt it is recorded as; if the predecessor claimed nothing
    /// (the task was cancelled or failed meanwhile), the rest is dropped, as the job's own
    /// reports would have been once told to stop. The answer is the last recorded report's.
    pub fn report_held(&mut self, reports: Vec<Completion>, tick: &Tick) -> (Effects, CompletionResponse) {
        let (mut effects, mut answer) = (Effects::default(), CompletionResponse::default());
        for (i, mut report) in reports.into_iter().enumerate() {
            if i > 0 {
                match answer.next_attempt {
                    Some(claimed) => report.attempt = claimed,
                    None => break,
                }
            }
            let (more, next) = self.report(report, tick);
            effects.extend(more);
            answer = next;
        }
        (effects, answer)
    }
}
