//! A retry that finds its result already stored: an earlier attempt stored it but could not
//! report it (the report failed, or the isolate died right after). The result key is only ever
//! written with the same bytes (it names the original's hash and the chain), so the stored
//! result is the work: the retry reports the remaining steps as succeeded without loading or
//! computing anything — and succeeds even if its input is gone by now.

use super::storage::Store;
use super::Next;
use crate::memory::linear_memory_bytes;
use crate::messages::{Completion, JobRef, Outcome, StepSpec};
use crate::task::client::TaskClient;
use crate::task::model::Output;
use crate::task::protocol::TaskError;
use functions::session::RASTER_MEDIA_TYPE;

/// Reports steps `spec.start..` of the attempt `attempt` as done, from the stored `output`.
pub async fn report_stored(task: &TaskClient, store: &Store, spec: &StepSpec, attempt: u32, output: Output) -> Result<Next, TaskError> {
    let (mut step, mut attempt) = (spec.start, attempt);
    loop {
        let last = step + 1 == spec.chain.len();
        let content_type = if last { output.content_type.clone() } else { RASTER_MEDIA_TYPE.to_string() };
        let bytes = if last { output.bytes } else { 0 };
        let (width, height, memory_bytes) = (output.width, output.height, linear_memory_bytes());
        // The stored box belongs to the chain's last content-aware step.
        let region = output.region.filter(|_| spec.chain.steps().iter().rposition(functions::Step::reports_box) == Some(step));
        let outcome = Outcome::Succeeded { content_type, width, height, bytes, duration_ms: 0, memory_bytes, region };
        let done = Completion { job: JobRef::Step { image: spec.image, step }, attempt, outcome, checkpointed: false, proceed: !last };
        let answer = task.complete(&done).await?;
        match answer.next_attempt {
            Some(next) if !last => (step, attempt) = (step + 1, next),
            _ => {
                if last && answer.retry_in_s.is_none() {
                    store.delete_all(spec.cleanup.iter()).await;
                }
                return Ok(Next::Ack);
            }
        }
    }
}
