//! One image's chain in one job: load the input once, run the claimed step and every step after
//! it in memory ([`functions::session::Session`]), report each step to the task object as it
//! finishes (so live progress looks exactly as if each step were its own job; a report followed
//! by a cheap step waits for that step's, see [`super::hold`]), and store only the result — plus
//! a checkpoint where one pays.
//!
//! Why fused: a message and an R2 round trip per step cost a queue wait (up to the batch
//! window) and a raster write and read per step, which for a 4-step preset was most of its time.
//!
//! The object answers each report with the attempt number of the next step, claimed in place,
//! or with nothing (cancelled, failed, finished), and the job stops. Image errors are permanent;
//! storage errors are transient: the object schedules the retry, which resumes from the last
//! checkpoint ([`crate::messages::StepSpec::resume_from`]). The client sees a fixed sentence per
//! kind of failure, the log the platform's text (see [`super::failure`]).

use super::failure::{transient, Attempt, Kind};
use super::hold;
use super::storage::{self, Store};
use super::timings::Timings;
use super::Next;
use crate::clock::now_millis;
use crate::config::Config;
use crate::ids::TaskId;
use crate::keys;
use crate::log;
use crate::messages::{Completion, Job, JobRef, Outcome, StepProgress, StepSpec};
use crate::metrics::{Metrics, StepPoint};
use crate::task::client::TaskClient;
use crate::task::protocol::TaskError;
use functions::ops::fit::Attempt as EncodeAttempt;
use functions::ops::region::Region;
use functions::session::{Advance, Session, RASTER_MEDIA_TYPE};
use functions::Step;
use std::time::Duration;
use worker::{Delay, Env};

/// The job's state between steps.
struct Run<'a> {
    task: TaskId,
    /// The task's object: each encode of a `max_bytes` search is reported to it as it ends.
    client: &'a TaskClient,
    /// Work since the last checkpoint (or the job's start) after which a step's output is
    /// stored (`CHECKPOINT_AFTER_MS`): a retry then redoes at most about this much. Below it,
    /// redoing is cheaper than the write (a 1600×1200 RGB raster is 5.8 MB).
    checkpoint_after_ms: u64,
    spec: &'a StepSpec,
    store: Store,
    session: Session<'a>,
    timings: Timings,
    /// When the work since the last checkpoint began.
    since_checkpoint: u64,
    /// Checkpoints this job wrote.
    written: Vec<String>,
    /// One data point per step run (op, format, size, time, memory, outcome).
    metrics: Metrics,
    /// The box of the last content-aware step this job ran (replays included), stored with
    /// the result for reuse.
    region: Option<Region>,
}

/// A step's result as the job reports it.
struct Done {
    content_type: String,
    dims: (u32, u32),
    bytes: u64,
    checkpointed: bool,
    region: Option<Region>,
}

/// Runs the claimed step and the rest of the chain; `attempt` is the claim's.
pub async fn run(
    env: &Env,
    config: &Config,
    task: &TaskClient,
    job: &Job,
    spec: &StepSpec,
    attempt: u32,
    timings: Timings,
) -> Result<Next, TaskError> {
    let report = |step: usize, attempt: u32, outcome: Outcome| Completion {
        job: JobRef::Step { image: spec.image, step },
        attempt,
        outcome,
        checkpointed: false,
        proceed: false,
    };
    let at = Attempt { task: &job.task, job: JobRef::Step { image: spec.image, step: spec.start }, attempt };
    let store = match Store::open(env) {
        Ok(s) => s,
        Err(e) => return finish(task, report(spec.start, attempt, transient(Kind::Storage, at, e))).await,
    };
    // A retry may find that an earlier attempt stored the result and only its report was lost.
    if attempt > 1 {
        if let Ok(Some(output)) = store.existing(&spec.output_key).await {
            return super::reuse::report_stored(task, &store, spec, attempt, output).await;
        }
    }
    // Plan every peak before the work starts: what no isolate can hold fails cleanly here,
    // instead of aborting the isolate halfway.
    if let Err(e) = crate::memory::check(spec.peak_bytes) {
        return finish(
            task,
            report(spec.start, attempt, Outcome::Failed { code: "image_too_large".into(), message: format!("this chain {e}") }),
        )
        .await;
    }
    if attempt <= config.faults.oom {
        super::exceed_the_memory_cap(job, timings.message());
    }
    // The peak was planned for one job per isolate: wait for a render (or another batch's
    // job) in this isolate to finish first. Held until the job ends.
    let _turn = crate::turn::take().await;
    let mut timings = timings;
    let input = match timings.time_load(store.get(&spec.input_key)).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return finish(task, report(spec.start, attempt, storage::missing("the input image no longer exists"))).await,
        Err(e) => return finish(task, report(spec.start, attempt, transient(Kind::Storage, at, e))).await,
    };
    let session = Session::start(spec.chain.steps(), spec.source_format, config.limits(), input, spec.resume_from);
    let since_checkpoint = now_millis();
    let mut run = Run {
        task: job.task.clone(),
        client: task,
        checkpoint_after_ms: config.checkpoint_after_ms,
        spec,
        store,
        session,
        timings,
        since_checkpoint,
        written: Vec::new(),
        metrics: Metrics::open(env),
        region: None,
    };
    let (mut step, mut attempt, mut breather) = (spec.start, attempt, crate::turn::Breather::new());
    // A succeeded step's report waiting for the next step's, when that one is cheap (`hold`).
    let mut held: Option<Completion> = None;
    loop {
        if attempt <= config.faults.die {
            let line = super::job_line(log::warn("fault"), job, run.timings.message());
            line.field("detail", "FAULT_INJECTION die: stopping mid-step without a report").emit();
            // The watchdog retries the silent step; only the claimed step's message is redelivered.
            return Ok(if step == spec.start { Next::Redeliver } else { Next::Ack });
        }
        if config.faults.pause_ms > 0 {
            Delay::from(Duration::from_millis(u64::from(config.faults.pause_ms))).await;
        }
        let (outcome, checkpointed) = match attempt <= config.faults.transient {
            true => (Outcome::Transient { message: format!("injected transient failure on attempt {attempt} (FAULT_INJECTION)") }, false),
            false => run.step(step, attempt).await,
        };
        let last = step + 1 == spec.chain.len();
        let succeeded = matches!(outcome, Outcome::Succeeded { .. });
        if last && succeeded && attempt <= config.faults.lose_report {
            let line = super::job_line(log::warn("fault"), job, run.timings.message());
            line.field("detail", "FAULT_INJECTION lose_report: the result is stored, its report never sent").emit();
            return Ok(if step == spec.start { Next::Redeliver } else { Next::Ack });
        }
        run.timings.outcome = outcome.name();
        run.record(job, step, &outcome);
        // A handed-over job past its budget reports without proceeding: the object then sends
        // the next step to the queue, which resumes from the last checkpoint.
        let proceed = succeeded && !last && !run.timings.past_budget();
        let done = Completion { checkpointed, proceed, ..report(step, attempt, outcome) };
        breather.breathe().await; // the network's turn between steps (see `turn::Breather`)
        let may_hold = config.faults.let_reports_wait() && hold::may_hold(spec.chain.steps(), step + 1, run.session.dims());
        if held.is_none() && proceed && may_hold {
            (held, step, attempt) = (Some(done), step + 1, hold::HELD_STEP_ATTEMPT);
            continue;
        }
        let answer = run.timings.time_object(hold::send(task, held.take(), &done)).await?;
        match (answer.retry_in_s, answer.next_attempt) {
            (Some(delay), _) if step == spec.start => return Ok(run.log(job, Next::RetryIn(delay))),
            (Some(delay), _) => return Ok(run.log(job, super::retry_later(env, job, spec.image, step, delay).await)),
            (None, Some(next)) => (step, attempt) = (step + 1, next),
            (None, None) => {
                if last && succeeded {
                    // Recorded: only now are the checkpoints dead weight.
                    run.store.delete_all(spec.cleanup.iter().chain(&run.written)).await;
                }
                return Ok(run.log(job, Next::Ack));
            }
        }
    }
}

/// Reports a job that could not start, and acks or retries its message as the object says.
async fn finish(task: &TaskClient, done: Completion) -> Result<Next, TaskError> {
    let answer = task.complete(&done).await?;
    Ok(answer.retry_in_s.map_or(Next::Ack, Next::RetryIn))
}

impl Run<'_> {
    /// Runs `step` (first replaying, silently, the steps since the last checkpoint); the
    /// outcome to report and whether its output was stored as a checkpoint.
    async fn step(&mut self, step: usize, attempt: u32) -> (Outcome, bool) {
        // The step's own time: its pixel work, not the R2 write of its result or checkpoint
        // nor the reports of its encodes (the job's log line has those as `store_ms` and
        // `object_ms`).
        let (started, waited_before) = (now_millis(), self.timings.store_ms() + self.timings.object_ms());
        match self.execute(step, attempt).await {
            Ok(Ok(Done { content_type, dims: (width, height), bytes, checkpointed, region })) => {
                let waited = self.timings.store_ms() + self.timings.object_ms() - waited_before;
                let duration_ms = (now_millis() - started).saturating_sub(waited);
                let memory_bytes = crate::memory::linear_memory_bytes();
                (Outcome::Succeeded { content_type, width, height, bytes, duration_ms, memory_bytes, region }, checkpointed)
            }
            Ok(Err(e)) => (Outcome::Failed { code: e.code().into(), message: e.to_string() }, false),
            Err(e) => {
                let at = Attempt { task: &self.task, job: JobRef::Step { image: self.spec.image, step }, attempt };
                (transient(Kind::Storage, at, e), false)
            }
        }
    }

    /// `Err` for platform trouble (worth retrying), `Ok(Err)` for the image's own problems.
    /// `attempt` is `step`'s, which its progress reports quote.
    async fn execute(&mut self, step: usize, attempt: u32) -> worker::Result<Result<Done, functions::ImageError>> {
        while self.session.next_step() <= step {
            let index = self.session.next_step();
            let aux = self.timings.time_load(self.store.aux(&self.spec.aux, &self.spec.chain.steps()[index])).await?;
            if index == 0 {
                if let Err(e) = self.timings.time_decode(|| self.session.decode()) {
                    return Ok(Err(e));
                }
            }
            let encode = matches!(self.spec.chain.steps()[index], Step::Encode(_));
            loop {
                match self.timings.time_step(encode, || self.session.advance(&aux)) {
                    Ok(Advance::Ran(_)) => break,
                    // Only the step being reported speaks; a replayed one already did.
                    Ok(Advance::Encoding(search)) if index == step => self.report_encode(step, attempt, search).await,
                    Ok(Advance::Encoding(_)) => {}
                    Err(e) => return Ok(Err(e)),
                }
            }
            self.region = self.session.region().or(self.region);
        }
        let region = self.session.region();
        if self.session.is_done() {
            let out = match self.timings.time_step(true, || self.session.finish()) {
                Ok(out) => out,
                Err(e) => return Ok(Err(e)),
            };
            let (content_type, dims, bytes) = (out.content_type.to_string(), (out.width, out.height), out.bytes.len() as u64);
            self.timings.time_store(self.store.put(&self.spec.output_key, out.bytes, out.content_type, dims, self.region)).await?;
            return Ok(Ok(Done { content_type, dims, bytes, checkpointed: false, region }));
        }
        let dims = self.session.dims();
        let checkpointed = self.checkpoint(step).await?;
        Ok(Ok(Done { content_type: RASTER_MEDIA_TYPE.to_string(), dims, bytes: 0, checkpointed, region }))
    }

    /// Tells the task's subscribers about one encode of `step`'s search. Best effort: a lost
    /// report only makes the stream quieter; the step's own report is what counts.
    async fn report_encode(&mut self, step: usize, attempt: u32, search: EncodeAttempt) {
        let progress = StepProgress { image: self.spec.image, step, attempt, search };
        if let Err(e) = self.timings.time_object(self.client.progress(&progress)).await {
            log::warn("progress_lost").task(self.task.as_str()).field("detail", e.to_string()).emit();
        }
    }

    /// Stores step `step`'s output when enough work went into it since the last checkpoint.
    async fn checkpoint(&mut self, step: usize) -> worker::Result<bool> {
        if now_millis() - self.since_checkpoint < self.checkpoint_after_ms {
            return Ok(false);
        }
        let Some(bytes) = self.session.checkpoint() else { return Ok(false) };
        let key = keys::step_output(&self.task, self.spec.image, step);
        self.timings.time_store(self.store.put(&key, bytes, RASTER_MEDIA_TYPE, self.session.dims(), None)).await?;
        self.written.push(key);
        self.since_checkpoint = now_millis();
        Ok(true)
    }

    /// The step's data point. Its figures are the step's own (pixel work, not R2 writes); a
    /// failed step has no output size, so it counts 0 megapixels.
    fn record(&self, job: &Job, step: usize, outcome: &Outcome) {
        let (megapixels, duration_ms, memory_bytes) = match outcome {
            Outcome::Succeeded { width, height, duration_ms, memory_bytes, .. } => {
                (f64::from(*width) * f64::from(*height) / 1e6, *duration_ms, *memory_bytes)
            }
            _ => (0.0, 0, crate::memory::linear_memory_bytes()),
        };
        self.metrics.step(&StepPoint {
            op: self.spec.chain.steps().get(step).map_or("unknown", Step::op),
            format: self.spec.source_format.name(),
            outcome: outcome.name(),
            tenant: job.tenant.as_str(),
            megapixels,
            duration_ms,
            memory_bytes,
        });
    }

    /// Logs the job's timings (one JSON line) and passes `next` through.
    fn log(&self, job: &Job, next: Next) -> Next {
        self.timings.line(job).emit();
        next
    }
}
