//! A tenant's usage (`GET /usage`): counters kept in its index object as images and tasks
//! change, never recomputed by scanning, and the storage quota checked against them.
//!
//! `bytes_stored` counts the originals plus, for every task that ended, the outputs and zip it
//! lists (logical bytes: a result two identical tasks share counts for both, since each can
//! download it). A task's outputs are charged when it ends and released when they are removed
//! (an image it used is deleted, or retention expires them). Why, and how the quota applies to
//! tasks (checked up front against a planned bound: `functions::stored`, held as a reservation
//! until the task ends: [`super::reservations`]): docs/OPERATIONS.md, "Usage and quotas".

use serde::{Deserialize, Serialize};
use std::fmt;
use worker::{Result, SqlStorage};

pub const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS usage (id INTEGER PRIMARY KEY CHECK (id = 1), images INTEGER NOT NULL, bytes_stored INTEGER NOT NULL, \
     tasks INTEGER NOT NULL, succeeded INTEGER NOT NULL, failed INTEGER NOT NULL, steps_run INTEGER NOT NULL, step_ms INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO usage VALUES (1, 0, 0, 0, 0, 0, 0, 0)",
    // What each ended task's outputs added to `bytes_stored`, so they can be released once.
    "CREATE TABLE IF NOT EXISTS task_charges (task TEXT PRIMARY KEY, bytes INTEGER NOT NULL)",
];

/// What one task adds to its tenant's usage when it ends (computed by the task object).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCharge {
    /// Its outputs' and zip's bytes.
    pub stored_bytes: u64,
    /// Steps that ran (a reused result's steps did not).
    pub steps_run: u64,
    /// Their summed durations.
    pub step_ms: u64,
}

/// The counters, as `GET /usage` shows them (the quota is added by the API).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub images: u64,
    pub bytes_stored: u64,
    pub tasks: TaskCounts,
    pub steps_run: u64,
    pub step_ms: u64,
    /// The planned bounds held for tasks admitted and not ended yet (not stored: see
    /// [`super::reservations`]).
    #[serde(default)]
    pub reserved: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCounts {
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
}

/// A change to the counters (signed: deletes and expiry subtract).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delta {
    pub images: i64,
    pub bytes_stored: i64,
    pub tasks: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub steps_run: i64,
    pub step_ms: i64,
}

/// A write refused because it would pass the tenant's quota; the figures for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverQuota {
    pub stored: u64,
    /// Held for tasks still running ([`super::reservations`]).
    pub reserved: u64,
    pub adding: u64,
    pub quota: u64,
}

impl fmt::Display for OverQuota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "storing {} more bytes would pass the tenant's quota of {} bytes (MAX_STORAGE_BYTES_PER_TENANT): {} bytes are stored \
             and {} reserved for the outputs of tasks still running",
            self.adding, self.quota, self.stored, self.reserved
        )
    }
}

/// Whether adding `adding` bytes to `stored`, beside the `reserved` bounds of tasks still
/// running, stays within `quota`.
pub fn admit(stored: u64, reserved: u64, adding: u64, quota: Option<u64>) -> std::result::Result<(), OverQuota> {
    match quota {
        Some(quota) if stored.saturating_add(reserved).saturating_add(adding) > quota => Err(OverQuota { stored, reserved, adding, quota }),
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
struct Row {
    images: i64,
    bytes_stored: i64,
    tasks: i64,
    succeeded: i64,
    failed: i64,
    steps_run: i64,
    step_ms: i64,
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub fn read(sql: &SqlStorage) -> Result<Usage> {
    let r = sql
        .exec("SELECT images, bytes_stored, tasks, succeeded, failed, steps_run, step_ms FROM usage WHERE id = 1", None)?
        .one::<Row>()?;
    Ok(Usage {
        images: unsigned(r.images),
        bytes_stored: unsigned(r.bytes_stored),
        tasks: TaskCounts { total: unsigned(r.tasks), succeeded: unsigned(r.succeeded), failed: unsigned(r.failed) },
        steps_run: unsigned(r.steps_run),
        step_ms: unsigned(r.step_ms),
        reserved: super::reservations::total(sql, crate::clock::now_millis())?,
    })
}

/// Applies `d`; counters never go below zero.
pub fn add(sql: &SqlStorage, d: Delta) -> Result<()> {
    sql.exec(
        "UPDATE usage SET images = MAX(images + ?, 0), bytes_stored = MAX(bytes_stored + ?, 0), tasks = MAX(tasks + ?, 0), \
         succeeded = MAX(succeeded + ?, 0), failed = MAX(failed + ?, 0), steps_run = MAX(steps_run + ?, 0), step_ms = MAX(step_ms + ?, 0) WHERE id = 1",
        vec![d.images.into(), d.bytes_stored.into(), d.tasks.into(), d.succeeded.into(), d.failed.into(), d.steps_run.into(), d.step_ms.into()],
    )?;
    Ok(())
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Charges an ended task (once: a task already charged is left alone).
pub fn charge_task(sql: &SqlStorage, task: &str, status: &str, charge: TaskCharge) -> Result<()> {
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let known = sql.exec("SELECT COUNT(*) AS n FROM task_charges WHERE task = ?", vec![task.into()])?.one::<N>()?.n > 0;
    if known {
        return Ok(());
    }
    sql.exec("INSERT INTO task_charges (task, bytes) VALUES (?, ?)", vec![task.into(), signed(charge.stored_bytes).into()])?;
    add(
        sql,
        Delta {
            bytes_stored: signed(charge.stored_bytes),
            succeeded: i64::from(status == "succeeded"),
            failed: i64::from(status == "failed"),
            steps_run: signed(charge.steps_run),
            step_ms: signed(charge.step_ms),
            ..Delta::default()
        },
    )
}

/// Releases what the tasks' outputs added to `bytes_stored` (their outputs were removed).
pub fn release_tasks(sql: &SqlStorage, tasks: &[String]) -> Result<()> {
    #[derive(Deserialize)]
    struct Bytes {
        bytes: i64,
    }
    for task in tasks {
        let rows: Vec<Bytes> = sql.exec("SELECT bytes FROM task_charges WHERE task = ?", vec![task.as_str().into()])?.to_array()?;
        let Some(Bytes { bytes }) = rows.into_iter().next() else { continue };
        sql.exec("UPDATE task_charges SET bytes = 0 WHERE task = ?", vec![task.as_str().into()])?;
        add(sql, Delta { bytes_stored: -bytes, ..Delta::default() })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_quota_everything_is_admitted() {
        assert_eq!(admit(u64::MAX, u64::MAX, u64::MAX, None), Ok(()));
    }

    #[test]
    fn an_upload_is_refused_only_if_it_would_pass_the_quota() {
        assert_eq!(admit(600, 0, 400, Some(1000)), Ok(()), "exactly at the quota fits");
        assert_eq!(admit(600, 0, 401, Some(1000)), Err(OverQuota { stored: 600, reserved: 0, adding: 401, quota: 1000 }));
        assert_eq!(admit(u64::MAX, 0, 1, Some(1000)).map_err(|o| o.stored), Err(u64::MAX), "no overflow");
    }

    #[test]
    fn a_zero_quota_stores_nothing() {
        assert!(admit(0, 0, 1, Some(0)).is_err());
    }

    #[test]
    fn what_running_tasks_reserved_counts_as_if_stored() {
        assert_eq!(admit(600, 300, 100, Some(1000)), Ok(()), "stored + reserved + adding exactly at the quota fits");
        assert_eq!(admit(600, 300, 101, Some(1000)), Err(OverQuota { stored: 600, reserved: 300, adding: 101, quota: 1000 }));
        assert_eq!(admit(0, u64::MAX, 1, Some(1000)).map_err(|o| o.reserved), Err(u64::MAX), "no overflow");
    }

    #[test]
    fn bounds_that_each_fit_alone_are_admitted_only_while_their_sum_fits() {
        // Four tasks of bound 400 beside 100 stored bytes under a quota of 1000: each alone
        // fits, but once two are reserved a third would pass the quota.
        let (stored, bound, quota) = (100, 400, Some(1000));
        let mut reserved = 0;
        let admitted = (0..4).filter(|_| {
            let ok = admit(stored, reserved, bound, quota).is_ok();
            reserved += if ok { bound } else { 0 };
            ok
        });
        assert_eq!(admitted.count(), 2);
        assert!(stored + reserved <= 1000, "the admitted bounds sum within the quota: {reserved}");
    }

    #[test]
    fn the_refusal_names_the_figures() {
        let upload = OverQuota { stored: 600, reserved: 250, adding: 401, quota: 1000 }.to_string();
        assert!(["401", "600", "250", "1000"].iter().all(|n| upload.contains(n)), "{upload}");
    }
}
