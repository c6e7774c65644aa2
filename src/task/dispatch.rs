//! Sending a task's jobs to the queue, and what a failed send leaves behind: the leases keep
//! their deadlines, pulled in so that the watchdog re-sends within seconds.

use super::alarm;
use super::model::Task;
use super::record::Record;
use crate::bindings::STEPS_QUEUE;
use crate::clock::now_millis;
use crate::config::Config;
use crate::messages::{Job, JobRef};
use worker::{Env, Error, Result, Storage};

/// Storage key of the task record.
pub const TASK_KEY: &str = "task";

/// Sends one message per job (two each under `FAULT_INJECTION duplicate`).
pub async fn send(env: &Env, storage: &Storage, task: &Task, jobs: Vec<JobRef>) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    // Fault injection (dev only): every message twice, to prove duplicates change nothing.
    let copies = match Config::from_env(env).map(|c| c.faults.duplicate) {
        Ok(true) => 2,
        _ => 1,
    };
    if alarm::send_fault(env, storage).await? {
        return Err(Error::RustError("injected send failure (FAULT_INJECTION send_fail)".into()));
    }
    let sent_ms = now_millis();
    let messages: Vec<Job> = jobs
        .into_iter()
        .flat_map(|job| std::iter::repeat_n(Job { tenant: task.tenant.clone(), task: task.id.clone(), job, sent_ms }, copies))
        .collect();
    // A batch holds at most 100 messages.
    for chunk in messages.chunks(100) {
        env.queue(STEPS_QUEUE)?.send_batch(chunk.to_vec()).await?;
    }
    Ok(())
}

/// Pulls in the deadlines of jobs whose messages were not sent, on the stored task (another
/// request may have changed it while the send was in flight), and re-arms the alarm.
pub async fn expedite(record: &Record, storage: &Storage, jobs: &[JobRef]) -> Result<()> {
    let Some(mut task) = record.load(storage).await? else { return Ok(()) };
    task.expedite(jobs, now_millis());
    record.save(storage, &task).await?;
    alarm::arm(record, storage, &task).await
}
