//! The tenant index's side of retention: which ended tasks are older than the cutoff, which of
//! their results another live task still lists (results are shared by identical requests, so
//! one task expiring must not take a newer task's output with it), and marking a task expired
//! (its row shows `expired_at`, its outputs leave `bytes_stored`).

use super::usage;
use serde::Deserialize;
use worker::{Result, SqlStorage};

pub const SCHEMA: [&str; 3] = [
    // Every stored result a task lists (its output keys), to tell shared results apart.
    "CREATE TABLE IF NOT EXISTS task_results (task TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (task, key))",
    "CREATE INDEX IF NOT EXISTS task_results_by_key ON task_results (key)",
    "CREATE TABLE IF NOT EXISTS expired (task TEXT PRIMARY KEY, at TEXT NOT NULL)",
];

#[derive(Deserialize)]
struct Id {
    id: String,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

/// Records the result keys a task's snapshot lists.
pub fn note_results(sql: &SqlStorage, task: &str, keys: &[String]) -> Result<()> {
    for key in keys {
        sql.exec("INSERT OR IGNORE INTO task_results (task, key) VALUES (?, ?)", vec![task.into(), key.as_str().into()])?;
    }
    Ok(())
}

/// Up to `limit` ended tasks last updated before `before` (RFC 3339, compared as text: every
/// timestamp here has the same `…T…Z` shape) and not expired yet, oldest first.
pub fn candidates(sql: &SqlStorage, before: &str, limit: u32) -> Result<Vec<String>> {
    let rows: Vec<Id> = sql
        .exec(
            "SELECT id FROM tasks WHERE status IN ('succeeded', 'failed', 'cancelled') AND json_extract(body, '$.updated_at') < ? \
             AND id NOT IN (SELECT task FROM expired) ORDER BY seq LIMIT ?",
            vec![before.into(), i64::from(limit).into()],
        )?
        .to_array()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Of `keys` (the outputs of `task`), those no other unexpired task lists: safe to delete.
pub fn unshared(sql: &SqlStorage, task: &str, keys: &[String]) -> Result<Vec<String>> {
    let mut free = Vec::new();
    for key in keys {
        let users = sql
            .exec(
                "SELECT COUNT(*) AS n FROM task_results WHERE key = ? AND task != ? AND task NOT IN (SELECT task FROM expired)",
                vec![key.as_str().into(), task.into()],
            )?
            .one::<Count>()?
            .n;
        if users == 0 {
            free.push(key.clone());
        }
    }
    Ok(free)
}

/// Marks `task` expired at `at`: its listed snapshot shows it and its outputs are released.
pub fn mark(sql: &SqlStorage, task: &str, at: &str) -> Result<()> {
    sql.exec("INSERT OR IGNORE INTO expired (task, at) VALUES (?, ?)", vec![task.into(), at.into()])?;
    sql.exec("UPDATE tasks SET body = json_set(body, '$.expired_at', ?) WHERE id = ?", vec![at.into(), task.into()])?;
    usage::release_tasks(sql, &[task.to_string()])
}
