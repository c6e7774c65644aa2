//! Quota reservations: the planned upper bound of every task admitted under
//! `MAX_STORAGE_BYTES_PER_TENANT`, held in the tenant's index from admission until the task
//! ends, so that tasks admitted at the same moment are checked against each other's bounds and
//! not only against what is stored (docs/OPERATIONS.md, "Usage and quotas").
//!
//! The object runs one call at a time and every function here is synchronous SQL, so a check
//! and the reservation it makes cannot interleave with another admission's (nor an upload's,
//! which counts the reservations too). A reservation is keyed by the task id and released in
//! the same call that charges the task's real bytes: the task's first terminal snapshot, which
//! the task object writes on every end (succeeded, failed, cancelled, or failed by its watchdog
//! when a consumer died) and keeps retrying from its alarm until the index has it.
//!
//! Reservations live in the object's SQLite storage, so a restart keeps them. Each carries an
//! expiry as a backstop against a leak, in two lengths:
//!
//! - [`PENDING_MS`] (15 min) until its task's first snapshot arrives. Creating the task writes
//!   that snapshot before answering (a failed write is retried every 5 s by the task's alarm),
//!   so a reservation still unconfirmed after 15 minutes belongs to a task that was never
//!   created (the Worker died between admission and creation, and could not release it); its
//!   bound would otherwise keep the tenant's room taken for nothing.
//! - [`HELD_MS`] (7 days) after each later snapshot. Every task ends: the watchdog fails a job
//!   whose message is never picked up after 63 queue timeouts (10.5 h at the default) and one
//!   that goes silent after its retries, so the longest silent stretch of a live task is about
//!   a day at the default settings. A week leaves room for raised timeouts; it is reached only
//!   if the task object lost its own state, and then the bound is released a week later
//!   rather than never. Expiring a live task's reservation early would let others be admitted
//!   beside its outputs, which is why the backstop errs long.

use super::usage::{self, OverQuota};
use serde::Deserialize;
use worker::{Result, SqlStorage};

pub const SCHEMA: [&str; 1] =
    ["CREATE TABLE IF NOT EXISTS reservations (task TEXT PRIMARY KEY, bytes INTEGER NOT NULL, expires_ms INTEGER NOT NULL)"];

/// How long a reservation is held until its task's first snapshot confirms the task exists.
pub const PENDING_MS: u64 = 15 * 60 * 1000;
/// How long a reservation is held after each snapshot of its (unfinished) task.
pub const HELD_MS: u64 = 7 * 24 * 60 * 60 * 1000;

#[derive(Deserialize)]
struct N {
    n: i64,
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The bytes reserved by reservations alive at `now_ms`.
pub fn total(sql: &SqlStorage, now_ms: u64) -> Result<u64> {
    let n =
        sql.exec("SELECT COALESCE(SUM(bytes), 0) AS n FROM reservations WHERE expires_ms > ?", vec![signed(now_ms).into()])?.one::<N>()?.n;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Whether `task` was admitted already: it holds a live reservation, is listed, or was
/// charged (a replayed Idempotency-Key maps to the same task id).
fn admitted(sql: &SqlStorage, task: &str, now_ms: u64) -> Result<bool> {
    let n = sql
        .exec(
            "SELECT (SELECT COUNT(*) FROM reservations WHERE task = ? AND expires_ms > ?) + (SELECT COUNT(*) FROM tasks WHERE id = ?) \
             + (SELECT COUNT(*) FROM task_charges WHERE task = ?) AS n",
            vec![task.into(), signed(now_ms).into(), task.into(), task.into()],
        )?
        .one::<N>()?
        .n;
    Ok(n > 0)
}

/// Admits `task` if its planned bound `bytes` fits beside the stored bytes and every live
/// reservation, and reserves it; refused with the figures otherwise. A task admitted before
/// is admitted again without a second reservation.
pub fn reserve(sql: &SqlStorage, task: &str, bytes: u64, quota: Option<u64>, now_ms: u64) -> Result<std::result::Result<(), OverQuota>> {
    if admitted(sql, task, now_ms)? {
        return Ok(Ok(()));
    }
    sql.exec("DELETE FROM reservations WHERE expires_ms <= ?", vec![signed(now_ms).into()])?;
    let now = usage::read(sql)?;
    if let Err(over) = usage::admit(now.bytes_stored, now.reserved, bytes, quota) {
        return Ok(Err(over));
    }
    sql.exec(
        "INSERT OR REPLACE INTO reservations (task, bytes, expires_ms) VALUES (?, ?, ?)",
        vec![task.into(), signed(bytes).into(), signed(now_ms.saturating_add(PENDING_MS)).into()],
    )?;
    Ok(Ok(()))
}

/// Follows a snapshot of `task`: an ended task's reservation is released (its real bytes are
/// charged in the same call), an unfinished one's is held [`HELD_MS`] longer.
pub fn follow(sql: &SqlStorage, task: &str, terminal: bool, now_ms: u64) -> Result<()> {
    if terminal {
        sql.exec("DELETE FROM reservations WHERE task = ?", vec![task.into()])?;
    } else {
        let until = signed(now_ms.saturating_add(HELD_MS));
        sql.exec("UPDATE reservations SET expires_ms = MAX(expires_ms, ?) WHERE task = ?", vec![until.into(), task.into()])?;
    }
    Ok(())
}

/// Releases the reservation of a task whose creation failed, unless the task is listed (then
/// it was created after all, and its terminal snapshot releases it).
pub fn release_unlisted(sql: &SqlStorage, task: &str) -> Result<()> {
    sql.exec("DELETE FROM reservations WHERE task = ? AND NOT EXISTS (SELECT 1 FROM tasks WHERE id = ?)", vec![task.into(), task.into()])?;
    Ok(())
}
