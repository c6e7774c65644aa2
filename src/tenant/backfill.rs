//! A one-off recompute of a tenant's usage counters from its own index (`POST /admin/usage`),
//! for tenants whose index predates usage tracking: their counters started at zero while their
//! images and tasks were already listed.
//!
//! What the rows tell exactly is recounted: images and their bytes, tasks by status, and the
//! bytes of every task already charged. A task that ended without being charged (it ended
//! before tracking) is charged once from its listed snapshot: its outputs' bytes (nothing if
//! retention expired them or an image it used was deleted, as a release would have left it),
//! with several outputs the zip's too (estimated as the outputs plus 0.5 KiB each: the zip
//! stores them uncompressed), and the steps its snapshot shows succeeded and their summed
//! durations. Charging records the task, so a second run changes nothing.

use super::usage::{self, TaskCharge, Usage};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{Result, SqlStorage};

/// The answer of `POST /admin/usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recomputed {
    pub before: Usage,
    pub after: Usage,
    /// Ended tasks charged now (they ended before usage tracking).
    pub tasks_charged: u64,
}

#[derive(Deserialize)]
struct Uncharged {
    id: String,
    body: String,
    expired: i64,
    images_gone: i64,
}

#[derive(Deserialize)]
struct Totals {
    images: i64,
    image_bytes: i64,
    tasks: i64,
    succeeded: i64,
    failed: i64,
    task_bytes: i64,
}

/// What an ended task's listed snapshot says it stored and ran. `released`: its outputs were
/// removed (expired, or an image it used deleted).
pub fn charge_from_snapshot(body: &Value, released: bool) -> TaskCharge {
    let outputs: Vec<u64> = body["outputs"].as_array().map(|o| o.iter().filter_map(|o| o["bytes"].as_u64()).collect()).unwrap_or_default();
    let stored_bytes = if released { 0 } else { functions::stored::task_bound(&outputs) };
    let steps = body["steps"].as_array().cloned().unwrap_or_default();
    // `progress.total` is images × steps.
    let images = body["progress"]["total"].as_u64().unwrap_or(0).checked_div(steps.len() as u64).unwrap_or(0);
    let succeeded = steps.iter().filter(|s| s["status"] == "succeeded").count() as u64;
    let step_ms = steps.iter().filter_map(|s| s["duration_ms"].as_u64()).sum();
    TaskCharge { stored_bytes, steps_run: succeeded * images, step_ms }
}

/// Ended tasks charged per page of a recompute (a task's snapshot is at most tens of KiB).
const RECOMPUTE_PAGE: i64 = 50;

pub fn recompute(sql: &SqlStorage) -> Result<Recomputed> {
    let before = usage::read(sql)?;
    let (mut steps_run, mut step_ms, mut charged) = (before.steps_run, before.step_ms, 0u64);
    // A page at a time: a tenant's history may hold many thousands of ended tasks, and their
    // snapshots, read whole, would not fit the isolate. Charging a task takes it out of the
    // query, so each page starts where the last ended.
    loop {
        let uncharged: Vec<Uncharged> = sql
            .exec(
                "SELECT t.id AS id, t.body AS body, \
                 (SELECT COUNT(*) FROM expired e WHERE e.task = t.id) AS expired, \
                 (SELECT COUNT(*) FROM json_each(t.body, '$.outputs') o WHERE json_extract(o.value, '$.image') NOT IN (SELECT id FROM images)) AS images_gone \
                 FROM tasks t WHERE t.status IN ('succeeded', 'failed', 'cancelled') AND t.id NOT IN (SELECT task FROM task_charges) \
                 LIMIT ?",
                vec![RECOMPUTE_PAGE.into()],
            )?
            .to_array()?;
        if uncharged.is_empty() {
            break;
        }
        charged += uncharged.len() as u64;
        for task in &uncharged {
            let body: Value = serde_json::from_str(&task.body)?;
            let charge = charge_from_snapshot(&body, task.expired > 0 || task.images_gone > 0);
            sql.exec(
                "INSERT INTO task_charges (task, bytes) VALUES (?, ?)",
                vec![task.id.as_str().into(), signed(charge.stored_bytes).into()],
            )?;
            (steps_run, step_ms) = (steps_run.saturating_add(charge.steps_run), step_ms.saturating_add(charge.step_ms));
        }
    }
    let t = sql
        .exec(
            "SELECT (SELECT COUNT(*) FROM images) AS images, \
             (SELECT COALESCE(SUM(json_extract(body, '$.bytes')), 0) FROM images) AS image_bytes, \
             (SELECT COUNT(*) FROM tasks) AS tasks, \
             (SELECT COUNT(*) FROM tasks WHERE status = 'succeeded') AS succeeded, \
             (SELECT COUNT(*) FROM tasks WHERE status = 'failed') AS failed, \
             (SELECT COALESCE(SUM(bytes), 0) FROM task_charges) AS task_bytes",
            None,
        )?
        .one::<Totals>()?;
    sql.exec(
        "UPDATE usage SET images = ?, bytes_stored = ?, tasks = ?, succeeded = ?, failed = ?, steps_run = ?, step_ms = ? WHERE id = 1",
        vec![
            t.images.into(),
            (t.image_bytes + t.task_bytes).into(),
            t.tasks.into(),
            t.succeeded.into(),
            t.failed.into(),
            signed(steps_run).into(),
            signed(step_ms).into(),
        ],
    )?;
    Ok(Recomputed { before, after: usage::read(sql)?, tasks_charged: charged })
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot(outputs: &[u64]) -> Value {
        json!({
            "status": "succeeded",
            "progress": {"done": 2 * outputs.len(), "total": 2 * outputs.len()},
            "steps": [{"op": "grayscale", "status": "succeeded", "duration_ms": 30}, {"op": "encode", "status": "succeeded", "duration_ms": 12}],
            "outputs": outputs.iter().map(|b| json!({"image": "img_1", "bytes": b})).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn one_output_is_charged_its_bytes_and_its_steps() {
        assert_eq!(charge_from_snapshot(&snapshot(&[1000]), false), TaskCharge { stored_bytes: 1000, steps_run: 2, step_ms: 42 });
    }

    #[test]
    fn several_outputs_are_charged_with_their_zip() {
        let charge = charge_from_snapshot(&snapshot(&[1000, 500]), false);
        assert_eq!(charge.stored_bytes, functions::stored::task_bound(&[1000, 500]));
        assert!(charge.stored_bytes > 3000, "the outputs twice (zip), plus its headers");
        assert_eq!(charge.steps_run, 4, "two steps on each of two images");
    }

    #[test]
    fn released_outputs_store_nothing_but_their_steps_ran() {
        assert_eq!(charge_from_snapshot(&snapshot(&[1000]), true), TaskCharge { stored_bytes: 0, steps_run: 2, step_ms: 42 });
    }

    #[test]
    fn a_failed_step_did_not_run_to_completion() {
        let mut body = snapshot(&[]);
        body["steps"][1]["status"] = "failed".into();
        body["progress"]["total"] = 2.into();
        assert_eq!(charge_from_snapshot(&body, false).steps_run, 1);
    }
}
