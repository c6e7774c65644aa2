//! The task's record in its object's storage, and the object's copy of it in memory: the one
//! place that reads and writes the record and numbers its events.
//!
//! Why a copy: every call to the object (a job's report, a socket, a read) began by reading the
//! record back and the last event's `seq` from storage, each a trip across the JS bridge, and
//! the record crossed it converted field by field (serde_wasm_bindgen) both ways. The object is
//! its record's only writer, and the runtime discards an object whose write failed, so the copy
//! of what it last wrote is what storage holds; only a fresh instance reads storage.
//!
//! Why JSON text: one string crosses the bridge and is stored as it is, where a record built as
//! a JS object cost a bridge call per field to write and to read (CPU profile of the
//! `thumbnail` preset, docs/BENCHMARKS.md). Records written as objects by earlier versions are
//! still read, and the next write stores them as text.

use super::alarm::REINDEX_KEY;
use super::dispatch::TASK_KEY;
use super::model::Task;
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use wasm_bindgen_futures::JsFuture;
use worker::{Error, Result, SqlStorage, Storage};

#[derive(Deserialize)]
struct SeqRow {
    seq: i64,
}

/// The record as this object last wrote or read it, its last event's seq, the pending
/// re-index mark ([`REINDEX_KEY`]) and the alarm this object last set: each `None` until known.
#[derive(Default)]
pub struct Record {
    task: RefCell<Option<Task>>,
    seq: Cell<Option<i64>>,
    reindex: Cell<Option<Option<u64>>>,
    alarm: Cell<Option<Option<u64>>>,
}

impl Record {
    /// The stored task, `None` before it was created.
    pub async fn load(&self, storage: &Storage) -> Result<Option<Task>> {
        if let Some(task) = self.task.borrow().as_ref() {
            return Ok(Some(task.clone()));
        }
        let stored = JsFuture::from(storage.as_raw().get(TASK_KEY)?).await?;
        if stored.is_undefined() {
            return Ok(None);
        }
        let task: Task = match stored.as_string() {
            Some(text) => serde_json::from_str(&text)?,
            // Written as a structured object by an earlier version: read again the way it was
            // written (once per object instance, and only for tasks older than this change).
            None => storage.get(TASK_KEY).await?.ok_or_else(|| Error::RustError("the task record vanished".into()))?,
        };
        *self.task.borrow_mut() = Some(task.clone());
        Ok(Some(task))
    }

    /// Writes `task` as the record. The copy changes first, as storage's own cache would, so a
    /// call that runs while the write is in flight sees it; a failed write forgets it.
    pub async fn save(&self, storage: &Storage, task: &Task) -> Result<()> {
        let text = serde_json::to_string(task)?;
        *self.task.borrow_mut() = Some(task.clone());
        let written = storage.put_raw(TASK_KEY, text).await;
        if written.is_err() {
            self.task.borrow_mut().take();
        }
        written
    }

    /// The seq of the task's last event (0 before any): the version of its snapshot.
    pub fn last_seq(&self, sql: &SqlStorage) -> Result<i64> {
        if let Some(seq) = self.seq.get() {
            return Ok(seq);
        }
        let seq = sql.exec("SELECT COALESCE(MAX(seq), 0) AS seq FROM events", None)?.one::<SeqRow>()?.seq;
        self.seq.set(Some(seq));
        Ok(seq)
    }

    /// Appends `events` to the log, numbered on from `last_seq` and written by `body` (which
    /// gets each one's seq); returns their bodies in order and the seq of the last one. A failed
    /// insert forgets the cached seq, so the next append asks the log again.
    pub fn append<E>(&self, sql: &SqlStorage, events: Vec<E>, body: impl Fn(u64, E) -> Result<String>) -> Result<(Vec<String>, i64)> {
        let mut seq = self.last_seq(sql)?;
        self.seq.set(None);
        let mut bodies = Vec::with_capacity(events.len());
        for event in events {
            seq += 1;
            let text = body(seq as u64, event)?;
            sql.exec("INSERT INTO events (seq, body) VALUES (?, ?)", vec![seq.into(), text.as_str().into()])?;
            bodies.push(text);
        }
        self.seq.set(Some(seq));
        Ok((bodies, seq))
    }

    /// The version whose index write failed and is still to be made up for, if any.
    pub async fn reindex(&self, storage: &Storage) -> Result<Option<u64>> {
        if let Some(known) = self.reindex.get() {
            return Ok(known);
        }
        let pending = storage.get::<u64>(REINDEX_KEY).await?;
        self.reindex.set(Some(pending));
        Ok(pending)
    }

    /// Records (or, with `None`, clears) the pending re-index.
    pub async fn set_reindex(&self, storage: &Storage, pending: Option<u64>) -> Result<()> {
        self.reindex.set(None);
        match pending {
            Some(version) => storage.put(REINDEX_KEY, version).await?,
            None => drop(storage.delete(REINDEX_KEY).await?),
        }
        self.reindex.set(Some(pending));
        Ok(())
    }

    /// The alarm time (ms) this object last set, `Some(None)` if it deleted it, `None` if unknown.
    pub fn alarm(&self) -> Option<Option<u64>> {
        self.alarm.get()
    }

    /// What the alarm now is, as just set or deleted; `None` when it is not known (it fired, or
    /// was changed elsewhere).
    pub fn alarm_is(&self, alarm: Option<Option<u64>>) {
        self.alarm.set(alarm);
    }
}
