//! The queue consumer: runs one job per message — an image's chain from the claimed step on
//! (see [`step`]), the zip, the webhook, or an uploaded image's analysis ([`analyze`]).
//!
//! For each message it claims the job from the task's object (which may say skip), runs it,
//! and reports the outcome. The object decides what a failure means: a permanent one fails the
//! task; a transient one comes back as "retry in N s", which becomes the queue's retry delay.
//! When the object cannot be reached at all, the message is retried plainly; its watchdog
//! covers whatever that leaves behind.

mod analyze;
mod failure;
mod hold;
mod package;
mod reuse;
mod step;
mod storage;
mod timings;
mod webhook;

use crate::bindings::STEPS_QUEUE;
use crate::clock::now_millis;
use crate::config::Config;
use crate::log;
use crate::messages::{Claimed, Completion, Job, JobRef, QueueMessage, Work};
use crate::task::client::TaskClient;
use crate::task::protocol::TaskError;
use timings::Timings;
use worker::{Env, MessageBatch, MessageBuilder, MessageExt, QueueRetryOptionsBuilder};

/// What to do with a message after handling it.
enum Next {
    Ack,
    RetryIn(u32),
    /// Leave it to be delivered again, as an isolate that died mid-run would.
    Redeliver,
}

pub async fn consume(batch: MessageBatch<QueueMessage>, env: Env) -> worker::Result<()> {
    let config = match Config::from_env(&env) {
        Ok(c) => c,
        Err(problems) => {
            // Without a valid config nothing can run; keep the messages for when it is fixed.
            log::error("config").field("where", "queue consumer").field("problems", &problems).emit();
            batch.retry_all();
            return Ok(());
        }
    };
    // Recognised by the configured name (`DEAD_LETTER_QUEUE`), which changes per environment;
    // an unknown or misspelt name is refused by `Config::parse`, so the check cannot silently
    // fail open.
    let dead_letters = batch.queue() == config.dead_letter_queue;
    for message in batch.iter() {
        let message = message?;
        let id = message.id();
        let job = match message.body() {
            QueueMessage::Task(job) => job,
            QueueMessage::Image(job) => {
                match analyze::run(&env, &config, job, &id, dead_letters).await {
                    Next::RetryIn(seconds) => {
                        message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(seconds).build())
                    }
                    Next::Ack | Next::Redeliver => message.ack(),
                }
                continue;
            }
        };
        let next = if dead_letters { give_up(&env, job, &id).await } else { run(&env, &config, job, Timings::start(job, &id)).await };
        match next {
            Ok(Next::Ack) => message.ack(),
            Ok(Next::RetryIn(seconds)) => message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(seconds).build()),
            Ok(Next::Redeliver) => message.retry(),
            Err(e) => {
                job_line(log::error("retry"), job, &id).field("detail", e.to_string()).emit();
                message.retry();
            }
        }
    }
    Ok(())
}

/// `line` about `job`, delivered as queue message `message` (its id stands in for a request id:
/// the one thing that ties together every line of one delivery).
fn job_line(line: log::Line, job: &Job, message: &str) -> log::Line {
    line.request_id(message).tenant(job.tenant.as_str()).task(job.task.as_str()).job(job.job)
}

/// A message that exhausted the queue's retries: its job fails visibly.
async fn give_up(env: &Env, job: &Job, message: &str) -> Result<Next, TaskError> {
    job_line(log::error("dead_letter"), job, message).field("detail", "giving up on the job").emit();
    TaskClient::new(env, &job.tenant, &job.task)?.give_up(job.job).await?;
    Ok(Next::Ack)
}

/// Runs a job handed over, claimed, by the request that created its task
/// ([`crate::task::inline`]), after that request's answer: what a delivered message would do
/// once claimed, except that what a message would leave to the queue (a retry after a delay, a
/// redelivery) is sent to the queue now. If that send fails, the job's lease deadline brings
/// the watchdog, as for any lost message.
pub async fn run_inline(env: Env, config: Config, job: Job, claimed: Claimed, request_id: String) {
    let timings = Timings::inline(&job, &request_id);
    let ran = match TaskClient::new(&env, &job.tenant, &job.task) {
        Ok(task) => run_claimed(&env, &config, &task, &job, claimed, timings).await,
        Err(e) => Err(e.into()),
    };
    let delay = match ran {
        Ok(Next::Ack) => return,
        Ok(Next::RetryIn(seconds)) => seconds,
        Ok(Next::Redeliver) => 0,
        Err(e) => {
            job_line(log::error("retry"), &job, &request_id).field("detail", e.to_string()).emit();
            0
        }
    };
    send_later(&env, Job { sent_ms: now_millis() + u64::from(delay) * 1000, ..job }, delay).await;
}

async fn run(env: &Env, config: &Config, job: &Job, timings: Timings) -> Result<Next, TaskError> {
    let task = TaskClient::new(env, &job.tenant, &job.task)?;
    let message = &timings.message().to_string();
    let mut timings = timings;
    let Some(claimed) = timings.time_object(task.claim(job.job)).await?.run else {
        job_line(log::info("skip"), job, message).field("detail", "duplicate, running elsewhere, or finished").emit();
        return Ok(Next::Ack);
    };
    run_claimed(env, config, &task, job, claimed, timings).await
}

/// Runs a job this runner holds the claim of.
async fn run_claimed(
    env: &Env,
    config: &Config,
    task: &TaskClient,
    job: &Job,
    claimed: Claimed,
    timings: Timings,
) -> Result<Next, TaskError> {
    let message = &timings.message().to_string();
    let attempt = claimed.attempt;
    let at = failure::Attempt { task: &job.task, job: job.job, attempt };
    let outcome = match claimed.work {
        Work::Step(spec) => return step::run(env, config, task, job, &spec, attempt, timings).await,
        Work::Package(spec) => package::run(env, at, &spec).await,
        Work::Webhook(spec) => webhook::deliver(config, at, &spec).await,
    };
    let detail = format!("{outcome:?}").chars().take(200).collect::<String>();
    job_line(log::info("outcome"), job, message).field("detail", detail).emit();
    let answer = task.complete(&Completion { job: job.job, attempt, outcome, checkpointed: false, proceed: false }).await?;
    Ok(answer.retry_in_s.map_or(Next::Ack, Next::RetryIn))
}

/// `FAULT_INJECTION oom=N`: allocates past the linked memory cap without asking first, as a
/// misplanned step would. That traps: the job ends without a report, and the glue must
/// re-create the module so that the redelivered message, and every other request, still run.
fn exceed_the_memory_cap(job: &Job, message: &str) {
    job_line(log::warn("fault"), job, message).field("detail", "FAULT_INJECTION oom: allocating past the memory cap").emit();
    let too_much = usize::try_from(crate::memory::ISOLATE_MEMORY_BYTES).unwrap_or(usize::MAX);
    let block = std::hint::black_box(vec![1u8; too_much]);
    let detail = format!("allocated {} bytes: the cap is not in force", block.len());
    job_line(log::error("fault"), job, message).field("detail", detail).emit();
}

/// A later step of the job failed transiently: its retry needs a message of its own (the
/// claimed step's message is done). If sending fails, the step's lease runs out and the
/// watchdog sends it.
async fn retry_later(env: &Env, job: &Job, image: usize, step: usize, delay: u32) -> Next {
    let sent_ms = now_millis() + u64::from(delay) * 1000;
    let retry = Job { tenant: job.tenant.clone(), task: job.task.clone(), job: JobRef::Step { image, step }, sent_ms };
    send_later(env, retry, delay).await;
    Next::Ack
}

/// Sends `job` to the queue, deliverable after `delay` seconds; a failure is only logged (the
/// job's lease deadline makes the watchdog send it).
async fn send_later(env: &Env, job: Job, delay: u32) {
    let sent = match env.queue(STEPS_QUEUE) {
        Ok(queue) => queue.send(MessageBuilder::new(job.clone()).delay_seconds(delay).build()).await,
        Err(e) => Err(e),
    };
    if let Err(e) = sent {
        let line = log::warn("send_failed").tenant(job.tenant.as_str()).task(job.task.as_str()).job(job.job);
        line.field("error", e.to_string()).field("recovery", "the watchdog sends it when its lease is overdue").emit();
    }
}
