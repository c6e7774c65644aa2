//! How often a running task's step progress reaches its tenant's index (`GET /tasks` and the
//! tenant feed's `task.progress`): the first time at once, then at most once per
//! [`PROGRESS_EVERY_MS`], the last change of a burst written when its window ends. Changes of
//! status are not throttled: a new task's first snapshot is written at once after the answer
//! ([`write_soon`]), any other (its end, a cancel) before `apply` answers.
//!
//! Why: every step's success used to write the whole snapshot to the index and publish a feed
//! event. A 100-image × 32-step task wrote 3,200 snapshots (~14 KiB each) and 3,200 feed
//! events, a third of the feed's 10,000-event memory, for one task; and a fused job's steps, a
//! few ms apart, each paid a tenant-object call beside their report (under `wrangler dev` on
//! the job's own thread: the `thumbnail` preset's two progress writes cost it ~10 % in an A/B,
//! loaded machine). A dashboard learns no more from 3,200 updates than from one a second; the
//! task's own stream (WebSocket, SSE, `GET /tasks/{id}`) still has every event as it happens.

use super::alarm;
use super::model::Task;
use super::record::Record;
use crate::clock::now_millis;
use std::cell::Cell;
use std::rc::Rc;
use worker::{Env, Storage};

/// The shortest time between two progress snapshots of one task in its tenant's index.
pub const PROGRESS_EVERY_MS: u64 = 1_000;

/// What to do with a progress snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Write it now.
    Now,
    /// Write the task as it then is, this many ms from now (the window's end).
    Later(u64),
    /// A later write is already due and will carry it.
    Skip,
}

/// One task object's progress writes, in memory: a restarted object starts a new window, which
/// at worst writes one snapshot early.
#[derive(Debug, Default)]
pub struct ProgressWrites {
    last_ms: Cell<Option<u64>>,
    trailing: Cell<bool>,
}

impl ProgressWrites {
    pub fn decide(&self, now_ms: u64) -> Decision {
        if self.trailing.get() {
            return Decision::Skip;
        }
        match self.last_ms.get() {
            Some(last) if now_ms < last.saturating_add(PROGRESS_EVERY_MS) => {
                self.trailing.set(true);
                Decision::Later(last.saturating_add(PROGRESS_EVERY_MS) - now_ms)
            }
            _ => {
                self.last_ms.set(Some(now_ms));
                Decision::Now
            }
        }
    }

    /// The trailing write is being made at `now_ms`: the next window starts.
    fn trailing_done(&self, now_ms: u64) {
        self.trailing.set(false);
        self.last_ms.set(Some(now_ms));
    }
}

/// Writes (now or at the window's end, per [`ProgressWrites::decide`]) the snapshot of a task
/// whose step progress changed, in the background: the report that caused it does not wait.
/// A trailing write reads the task again (the latest snapshot is the one worth writing) and is
/// dropped if the task has ended meanwhile (its end was written before it was answered).
pub fn write_progress(writes: &Rc<ProgressWrites>, record: &Rc<Record>, env: &Env, storage: Storage, task: &Task, version: u64) {
    let wait = match writes.decide(now_millis()) {
        Decision::Skip => return,
        Decision::Now => None,
        Decision::Later(ms) => Some(ms),
    };
    let Some(ms) = wait else { return write_soon(record, env, storage, task, version) };
    let (env, writes, record) = (env.clone(), Rc::clone(writes), Rc::clone(record));
    wasm_bindgen_futures::spawn_local(async move {
        crate::turn::pause(ms).await;
        writes.trailing_done(now_millis());
        if let Some((task, version)) = latest(&record, &storage).await.filter(|(task, _)| !task.status.is_terminal()) {
            index(&env, &record, &storage, &task, version).await;
        }
    });
}

/// Writes the snapshot in the background, unthrottled: a new task's first one (which leaves
/// the window to its first step's progress).
pub fn write_soon(record: &Rc<Record>, env: &Env, storage: Storage, task: &Task, version: u64) {
    let (env, task, record) = (env.clone(), task.clone(), Rc::clone(record));
    wasm_bindgen_futures::spawn_local(async move { index(&env, &record, &storage, &task, version).await });
}

async fn index(env: &Env, record: &Record, storage: &Storage, task: &Task, version: u64) {
    // A mark this clears only makes the alarm fire once more, harmlessly.
    if let Err(e) = alarm::index(env, record, storage, task, version).await {
        crate::log::error("index_failed").task(task.id.as_str()).field("error", e.to_string()).emit();
    }
}

/// The stored task and its last event's seq (the snapshot's version).
async fn latest(record: &Record, storage: &Storage) -> Option<(Task, u64)> {
    let task = record.load(storage).await.ok()??;
    let seq = record.last_seq(&storage.sql()).ok()?;
    Some((task, u64::try_from(seq).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_progress_is_written_at_once_and_a_burst_after_it_once_at_the_windows_end() {
        let writes = ProgressWrites::default();
        assert_eq!(writes.decide(10), Decision::Now);
        assert_eq!(writes.decide(12), Decision::Later(PROGRESS_EVERY_MS - 2), "the next step, 2 ms later");
        assert_eq!(writes.decide(15), Decision::Skip, "carried by the write already due");
        writes.trailing_done(10 + PROGRESS_EVERY_MS);
        assert_eq!(writes.decide(10 + PROGRESS_EVERY_MS + 1), Decision::Later(PROGRESS_EVERY_MS - 1));
    }

    #[test]
    fn progress_slower_than_the_window_is_written_as_it_comes() {
        let writes = ProgressWrites::default();
        for step in 0..5 {
            assert_eq!(writes.decide(step * (PROGRESS_EVERY_MS + 1)), Decision::Now, "step {step}");
        }
    }
}
