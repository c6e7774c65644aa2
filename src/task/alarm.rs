//! The task object's alarm and the tenant-index writes it retries.
//!
//! One alarm serves two purposes: the watchdog (the earliest lease deadline) and retrying a
//! failed write of the task's snapshot to its tenant's index (`GET /tasks`). A failed write is
//! remembered under [`REINDEX_KEY`] (the version that failed), so that re-pointing the alarm at
//! the next deadline — or deleting it once nothing is outstanding — cannot drop the retry: the
//! alarm time is always computed from both by [`next_alarm`], and the alarm re-indexes every
//! time it fires, clearing the mark once a write of at least that version succeeds.

use super::listing;
use super::model::Task;
use super::record::Record;
use crate::clock::now_millis;
use crate::config::Config;
use worker::{Env, Result, ScheduledTime, Storage};

/// Storage key of the pending re-index: the highest snapshot version whose write failed.
pub const REINDEX_KEY: &str = "reindex";
/// While a re-index is pending the alarm fires this soon.
pub const INDEX_RETRY_MS: u64 = 5_000;
/// Storage keys counting the injected faults already spent (dev only, see `crate::faults`).
const SEND_FAULTS_KEY: &str = "faults.send";
const INDEX_FAULTS_KEY: &str = "faults.index";

/// When the alarm must fire: at the earliest lease deadline, and soon while the index is behind
/// the task; `None` when neither applies (then no alarm is needed).
pub fn next_alarm(task: &Task, reindex_pending: bool, now_ms: u64) -> Option<u64> {
    let retry = reindex_pending.then_some(now_ms + INDEX_RETRY_MS);
    task.next_deadline().into_iter().chain(retry).min()
}

fn at(ms: u64) -> ScheduledTime {
    ScheduledTime::new(js_sys::Date::new(&(ms as f64).into()))
}

/// Points the alarm at [`next_alarm`], or deletes it.
///
/// An alarm already set earlier than needed, and still ahead, is left as it is: firing early
/// only makes the watchdog look, find nothing due and re-arm, while a report each step would
/// otherwise move the alarm (a storage write) by the few ms the step took.
pub async fn arm(record: &Record, storage: &Storage, task: &Task) -> Result<()> {
    let now = now_millis();
    let next = next_alarm(task, record.reindex(storage).await?.is_some(), now);
    let keep = match (record.alarm(), next) {
        (Some(Some(set)), Some(next)) => set <= next && set > now,
        (Some(None), None) => true,
        _ => false,
    };
    if keep {
        return Ok(());
    }
    record.alarm_is(None);
    match next {
        Some(ms) => storage.set_alarm(at(ms)).await?,
        None => storage.delete_alarm().await?,
    }
    record.alarm_is(Some(next));
    Ok(())
}

/// Arms the alarm if it is needed but missing (a restart can lose it).
pub async fn arm_if_missing(record: &Record, storage: &Storage, task: &Task) -> Result<()> {
    let needed = next_alarm(task, record.reindex(storage).await?.is_some(), now_millis()).is_some();
    if needed && storage.get_alarm().await?.is_none() {
        record.alarm_is(None);
        arm(record, storage, task).await?;
    }
    Ok(())
}

/// Writes the task's snapshot at `version` into its tenant's index. A failure is logged and
/// marked for the alarm, which retries soon; the task goes on either way. Returns whether this
/// write cleared an earlier failure's mark (the caller may then re-arm without it).
pub async fn index(env: &Env, record: &Record, storage: &Storage, task: &Task, version: u64) -> Result<bool> {
    let written = match injected(env, storage, |f| f.index_fail, INDEX_FAULTS_KEY).await? {
        true => Err("injected index failure (FAULT_INJECTION index_fail)".to_string()),
        false => listing::sync(env, task, version).await.map_err(|e| e.to_string()),
    };
    let pending = record.reindex(storage).await?;
    match written {
        // Only a write at least as new as the failed one makes up for it: an older background
        // snapshot landing late must not clear a newer failure.
        Ok(()) if pending.is_some_and(|p| p <= version) => {
            record.set_reindex(storage, None).await?;
            Ok(true)
        }
        Ok(()) => Ok(false),
        Err(error) => {
            crate::log::error("index_failed").task(task.id.as_str()).field("version", version).field("error", &error).emit();
            record.set_reindex(storage, Some(pending.unwrap_or(0).max(version))).await?;
            let retry_at = now_millis() + INDEX_RETRY_MS;
            if storage.get_alarm().await?.is_none_or(|alarm| alarm as u64 > retry_at) {
                record.alarm_is(None);
                storage.set_alarm(at(retry_at)).await?;
                record.alarm_is(Some(Some(retry_at)));
            }
            Ok(false)
        }
    }
}

/// Whether an injected send failure is due now (dev only; counts it).
pub async fn send_fault(env: &Env, storage: &Storage) -> Result<bool> {
    injected(env, storage, |f| f.send_fail, SEND_FAULTS_KEY).await
}

/// Spends one of the first `limit` injected failures of a kind, counted in storage so that the
/// count survives the object being evicted between attempts. Unset, it touches nothing.
async fn injected(env: &Env, storage: &Storage, limit: impl Fn(&crate::faults::Faults) -> u32, key: &str) -> Result<bool> {
    let limit = Config::from_env(env).map(|c| limit(&c.faults)).unwrap_or(0);
    if limit == 0 {
        return Ok(false);
    }
    let spent: u32 = storage.get(key).await?.unwrap_or(0);
    if spent >= limit {
        return Ok(false);
    }
    storage.put(key, spent + 1).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ImageId, TaskId, TenantId};
    use crate::task::lease::Policy;
    use crate::task::model::{ImageRef, NewImage, NewTask, Tick};
    use functions::{Chain, Format};
    use serde_json::json;

    const TIMEOUT: u64 = 10_000;

    fn tick(ms: u64) -> Tick {
        Tick { ms, iso: format!("t{ms}"), policy: Policy { timeout_ms: TIMEOUT, queue_timeout_ms: TIMEOUT, max_retries: 2 }, jitter: 0.0 }
    }

    fn task() -> Task {
        let chain = Chain::parse(&json!([{"op": "resize", "width": 8}])).expect("chain");
        let image = ImageRef {
            id: ImageId::parse(&format!("img_{:032x}", 1)).expect("id"),
            name: "a.png".into(),
            format: Format::Png,
            result_key: "r".into(),
            peak_bytes: 0,
        };
        let new = NewTask {
            id: TaskId::parse("task_0123456789abcdef0123456789abcdef").expect("id"),
            tenant: TenantId::parse("alice").expect("tenant"),
            chain,
            images: vec![NewImage { image, cached: None }],
            webhook: None,
            fingerprint: None,
            inline: false,
        };
        Task::new(new, &tick(0)).0
    }

    #[test]
    fn the_alarm_follows_the_earliest_deadline_when_the_index_is_current() {
        assert_eq!(next_alarm(&task(), false, 0), Some(TIMEOUT));
    }

    #[test]
    fn a_pending_reindex_brings_the_alarm_forward_of_a_later_deadline() {
        assert_eq!(next_alarm(&task(), true, 0), Some(INDEX_RETRY_MS));
        assert_eq!(next_alarm(&task(), true, 9_000), Some(TIMEOUT), "the deadline is sooner still");
    }

    #[test]
    fn a_finished_task_needs_an_alarm_only_while_its_listing_is_behind() {
        let mut done = task();
        done.cancel(&tick(1)).expect("a queued task can be cancelled");
        assert!(done.status.is_terminal() && done.next_deadline().is_none());
        assert_eq!(next_alarm(&done, false, 1_000), None, "nothing left to watch");
        assert_eq!(next_alarm(&done, true, 1_000), Some(1_000 + INDEX_RETRY_MS), "the retry survives the end of the work");
    }
}
