//! Analyses owed: the tenant index's durable record of uploads whose placeholder job must still
//! reach the queue, and the object's alarm that re-sends it.
//!
//! The upload sends its analysis job after the answer (`wait_until`, [`crate::analysis`]), so
//! nothing on the answer's path waits for the queue; that send may fail, or the isolate may end
//! before it runs. So the index write the upload already awaits also records the image here,
//! due after the queue timeout, and arms the object's alarm. The job's end settles the row (a
//! stored placeholder, or an image that cannot be analysed); a failed send from the Worker
//! brings it forward to [`SEND_RETRY_MS`]. When the alarm finds a row due it sends the job
//! again, waiting twice as long each time, at most [`MAX_SENDS`] times (a re-sent job that was
//! only slow is harmless: the analysis is idempotent and announces a value once).

use crate::bindings::STEPS_QUEUE;
use crate::clock::now_millis;
use crate::config::Config;
use crate::ids::{ImageId, TenantId};
use crate::log;
use crate::messages::{ImageJob, QueueMessage};
use serde::Deserialize;
use worker::{Env, Result, ScheduledTime, SqlStorage, State};

pub const SCHEMA: [&str; 1] =
    ["CREATE TABLE IF NOT EXISTS analysis_pending (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, due_ms INTEGER NOT NULL, sends INTEGER NOT NULL)"];

/// How soon a job whose send failed is sent again (as for a task's message).
pub const SEND_RETRY_MS: u64 = 2_000;

/// Sends by the alarm before the image is given up (`placeholder` then stays null).
pub const MAX_SENDS: u32 = 5;

/// Rows re-sent per alarm; the rest wait for the next one, armed at once.
const BATCH: u32 = 50;

/// Wait before the alarm sends the job again after `sends` sends of its own (the upload's send
/// is not counted): the queue timeout, doubled each time; `None` once [`MAX_SENDS`] are spent.
pub fn next_wait_ms(queue_timeout_ms: u64, sends: u32) -> Option<u64> {
    (sends < MAX_SENDS).then(|| queue_timeout_ms.saturating_mul(1 << sends.min(16)))
}

#[derive(Deserialize)]
struct Due {
    id: String,
    tenant: String,
    sends: i64,
}

#[derive(Deserialize)]
struct Next {
    due_ms: Option<i64>,
}

fn ms(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// An absolute time for the alarm (`ScheduledTime::from(i64)` would be an offset from now).
fn at(ms: i64) -> ScheduledTime {
    ScheduledTime::new(js_sys::Date::new(&(ms as f64).into()))
}

/// After an upload is indexed: with `wait_ms` (uploads are analysed), records that `image` of
/// `tenant` owes an analysis, due after that long, and arms the alarm for it.
pub async fn owe_after_put(state: &State, tenant: Option<&TenantId>, image: &ImageId, wait_ms: Option<u64>) -> Result<()> {
    let (Some(tenant), Some(wait)) = (tenant, wait_ms) else { return Ok(()) };
    let due = now_millis().saturating_add(wait);
    state.storage().sql().exec(
        "INSERT OR IGNORE INTO analysis_pending (id, tenant, due_ms, sends) VALUES (?, ?, ?, 0)",
        vec![image.as_str().into(), tenant.as_str().into(), ms(due).into()],
    )?;
    arm(state, due).await
}

/// The analysis ended (stored, refused) or the image is gone: nothing is owed any more.
pub fn settle(sql: &SqlStorage, image: &ImageId) -> Result<()> {
    sql.exec("DELETE FROM analysis_pending WHERE id = ?", vec![image.as_str().into()])?;
    Ok(())
}

/// The Worker's send failed: if the analysis is still owed, it is due in [`SEND_RETRY_MS`].
pub async fn send_failed(state: &State, image: &ImageId) -> Result<()> {
    let (sql, due) = (state.storage().sql(), now_millis().saturating_add(SEND_RETRY_MS));
    sql.exec("UPDATE analysis_pending SET due_ms = MIN(due_ms, ?) WHERE id = ?", vec![ms(due).into(), image.as_str().into()])?;
    let owed = sql.exec("SELECT MIN(due_ms) AS due_ms FROM analysis_pending WHERE id = ?", vec![image.as_str().into()])?.one::<Next>()?;
    match owed.due_ms {
        Some(_) => arm(state, due).await,
        None => Ok(()),
    }
}

/// Arms the object's alarm for `at_ms` unless it already fires sooner.
async fn arm(state: &State, at_ms: u64) -> Result<()> {
    let storage = state.storage();
    if storage.get_alarm().await?.is_none_or(|alarm| alarm > ms(at_ms)) {
        storage.set_alarm(at(ms(at_ms))).await?;
    }
    Ok(())
}

/// The alarm: sends every due job again (or gives it up), then sleeps until the next one.
pub async fn resend_due(state: &State, env: &Env) -> Result<()> {
    let sql = state.storage().sql();
    // A broken configuration is logged by every route; the default timeout still re-sends.
    let timeout_ms = Config::from_env(env).map(|c| c.queue_timeout_seconds).unwrap_or(600).saturating_mul(1000);
    let now = now_millis();
    let due: Vec<Due> = sql
        .exec(
            "SELECT id, tenant, sends FROM analysis_pending WHERE due_ms <= ? ORDER BY due_ms LIMIT ?",
            vec![ms(now).into(), i64::from(BATCH).into()],
        )?
        .to_array()?;
    for row in due {
        let sends = u32::try_from(row.sends).unwrap_or(MAX_SENDS);
        let line = |l: log::Line| l.tenant(&row.tenant).image(&row.id).field("sends", sends);
        let (Some(tenant), Some(image)) = (TenantId::parse(&row.tenant), ImageId::parse(&row.id).ok()) else {
            sql.exec("DELETE FROM analysis_pending WHERE id = ?", vec![row.id.as_str().into()])?;
            continue;
        };
        let Some(wait) = next_wait_ms(timeout_ms, sends) else {
            line(log::warn("analysis_abandoned")).field("detail", "the job was sent too often; placeholder stays null").emit();
            settle(&sql, &image)?;
            continue;
        };
        let job = QueueMessage::Image(ImageJob { tenant, analyze: image.clone(), sent_ms: now });
        let next = match env.queue(STEPS_QUEUE) {
            Ok(queue) => queue.send(job).await,
            Err(e) => Err(e),
        };
        let due = match next {
            Ok(()) => {
                line(log::info("analysis_resent")).emit();
                now.saturating_add(wait)
            }
            Err(e) => {
                line(log::warn("analysis_not_queued")).field("detail", e.to_string()).emit();
                now.saturating_add(SEND_RETRY_MS)
            }
        };
        sql.exec("UPDATE analysis_pending SET due_ms = ?, sends = sends + 1 WHERE id = ?", vec![ms(due).into(), image.as_str().into()])?;
    }
    let next = sql.exec("SELECT MIN(due_ms) AS due_ms FROM analysis_pending", None)?.one::<Next>()?;
    if let Some(due) = next.due_ms {
        state.storage().set_alarm(at(due)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alarm_waits_the_queue_timeout_doubling_and_gives_up_after_five_sends() {
        let waits: Vec<Option<u64>> = (0..=MAX_SENDS).map(|s| next_wait_ms(600_000, s)).collect();
        assert_eq!(waits, vec![Some(600_000), Some(1_200_000), Some(2_400_000), Some(4_800_000), Some(9_600_000), None]);
    }
}
