//! The Cron Triggers (`[triggers] crons` in wrangler.toml): one handler, told which job to run
//! by the event's cron expression (`RETENTION_CRON`, `BACKUP_CRON`). Each run logs one line
//! with what it did; a failed run is logged and simply runs again at its next schedule (both
//! jobs finish what an interrupted run left).

use crate::config::Config;
use crate::{backup, log, retention};
use worker::Env;

const DAY_MS: u64 = 86_400_000;

/// Runs the job scheduled as `cron`, as of `scheduled_ms` (the event's scheduled time, moved by
/// the test-only `FAULT_INJECTION` `clock_days`): the retention cutoff is counted from it.
pub async fn run(cron: &str, scheduled_ms: u64, env: &Env) {
    let config = match Config::from_env(env) {
        Ok(c) => c,
        Err(problems) => {
            log::error("config").field("where", "scheduled").field("problems", &problems).emit();
            return;
        }
    };
    let scheduled_ms = scheduled_ms + u64::from(config.faults.clock_days) * DAY_MS;
    if cron == config.retention_cron {
        match retention::run(env, scheduled_ms, config.result_ttl_days).await {
            Ok(s) => log::info("retention")
                .field("tenants", s.tenants)
                .field("tasks_expired", s.tasks)
                .field("objects_deleted", s.objects)
                .emit(),
            Err(e) => log::error("retention_failed").field("error", e.to_string()).emit(),
        }
    } else if cron == config.backup_cron {
        match backup::run(env, scheduled_ms).await {
            Ok(m) => log::info("backup").field("backup", &m.id).field("tenants", m.tenants.len()).emit(),
            Err(e) => log::error("backup_failed").field("error", e.to_string()).emit(),
        }
    } else {
        log::error("unknown_cron").field("cron", cron).field("known", [&config.retention_cron, &config.backup_cron]).emit();
    }
}
