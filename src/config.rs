//! The typed configuration, read from vars and secrets, validated, and kept for the isolate's life.
//!
//! A half-configured Worker must not run: any bad or missing name makes every route answer 503
//! `unavailable` listing the names (the README's "Configuration").

use crate::auth::{Rules, Verifier};
use crate::faults::Faults;
use crate::task::lease::Policy;
use worker::Env;

/// HS256 key for tokens and signed links. Never printed.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Minimum secret length: HS256 keys shorter than the hash output weaken it.
pub const MIN_SECRET_BYTES: usize = 32;

/// Longest `TOKEN_AUDIENCE` accepted.
const MAX_AUDIENCE_BYTES: usize = 256;

/// `DEAD_LETTER_QUEUE` when unset: the name `wrangler.toml` gives the local dead-letter queue.
pub const DEFAULT_DEAD_LETTER_QUEUE: &str = "stellar-studio-steps-dlq";

/// A Cloudflare queue name: 1–63 lowercase letters, digits and dashes.
fn is_queue_name(name: &str) -> bool {
    (1..=63).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[derive(Debug, Clone)]
pub struct Config {
    pub auth_secret: Secret,
    /// The key being rotated out (`AUTH_SECRET_PREVIOUS`): still accepted for tokens and links,
    /// never used to sign.
    pub auth_secret_previous: Option<Secret>,
    /// Longest lifetime (`exp - iat`, or `exp - now`) of an accepted token: nothing revokes one.
    pub max_token_lifetime_seconds: u64,
    /// When set, tokens must name it in `aud` (`TOKEN_AUDIENCE`).
    pub token_audience: Option<String>,
    /// Lifetime of the signed links in task objects.
    pub link_ttl_seconds: u64,
    /// Longest lifetime of a minted render link (`RENDER_LINK_MAX_TTL_SECONDS`): embedded
    /// images outlive the pages that show them, so this is long, and signing is all it grants.
    pub render_link_max_ttl_seconds: u64,
    /// Open WebSockets one stream (a task, a tenant's feed) accepts before refusing with 1013.
    pub max_sockets_per_stream: usize,
    pub allowed_origins: Vec<String>,
    pub rate_limit_per_minute: u32,
    pub max_upload_bytes: u64,
    pub max_input_pixels: u64,
    pub memory_budget_bytes: u64,
    /// Seconds a step may stay silent (or its message unclaimed) before the watchdog acts.
    pub step_timeout_seconds: u64,
    /// How long a sent message may wait unclaimed before it is sent again (doubling each time).
    pub queue_timeout_seconds: u64,
    /// Retries after a step's first attempt, for transient failures and timeouts alike.
    pub step_max_retries: u32,
    /// Work (ms) a job does since its last checkpoint before it stores the next step's output,
    /// so that a retry redoes at most about this much.
    pub checkpoint_after_ms: u64,
    /// `POST /tasks` runs a new task's first job itself after answering (`INLINE_FIRST_JOB`,
    /// default on; see [`crate::task::inline`]). Off, every job goes through the queue.
    pub inline_first_job: bool,
    /// Key for the webhook signature; without it, requests asking for a webhook are refused.
    pub webhook_secret: Option<Secret>,
    /// Dev/test only: accept webhook URLs on loopback (plain http allowed there).
    pub webhook_allow_loopback: bool,
    /// Dev/test only: see [`crate::faults`].
    pub faults: Faults,
    /// Name of the dead-letter queue (`DEAD_LETTER_QUEUE`): a batch from it is failed visibly,
    /// not run. Queue names differ per environment, and the consumer only learns the name of
    /// the queue a batch came from, so the name is configured next to the queue's own
    /// declaration rather than compiled in.
    pub dead_letter_queue: String,
    /// Bytes a tenant may keep stored (`MAX_STORAGE_BYTES_PER_TENANT`; `None`: unlimited).
    /// What counts is in docs/OPERATIONS.md ("Usage and quotas").
    pub max_storage_bytes_per_tenant: Option<u64>,
    /// Days a task's outputs are kept after it ended (`RESULT_TTL_DAYS`); the retention cron
    /// deletes older ones.
    pub result_ttl_days: u64,
    /// The `[triggers] crons` entry that runs retention (`RETENTION_CRON`), and the one that
    /// runs the backup (`BACKUP_CRON`): a scheduled event names only its cron expression, so
    /// the jobs are told apart by it, configured next to the triggers.
    pub retention_cron: String,
    pub backup_cron: String,
    /// Whether uploads are analysed (their placeholder). Off only with `BENCH_SKIP_ANALYSIS=1`
    /// where the dev-only bench routes are on (`BENCH_ROUTES=1`): the uploads benchmark's
    /// comparison; a deployment always analyses.
    pub analyze_uploads: bool,
}

/// `RETENTION_CRON` and `BACKUP_CRON` when unset: the expressions wrangler.toml schedules.
pub const DEFAULT_RETENTION_CRON: &str = "17 3 * * *";
pub const DEFAULT_BACKUP_CRON: &str = "41 2 * * *";

impl Config {
    /// Reads the Worker's environment.
    ///
    /// Read once per isolate and then handed out as a copy: an isolate's vars and secrets
    /// cannot change under it (a new value is a new version, which runs in new isolates), and
    /// reading them is two bridge calls per name, ~0.4 ms a time, which every request, object
    /// call and job paid (docs/BENCHMARKS.md, the per-task fixed cost). A broken configuration
    /// is kept too: every event answers from the same verdict.
    pub fn from_env(env: &Env) -> Result<Config, Vec<String>> {
        thread_local! {
            static READ: std::cell::OnceCell<Result<Config, Vec<String>>> = const { std::cell::OnceCell::new() };
        }
        READ.with(|read| read.get_or_init(|| Config::read(env)).clone())
    }

    fn read(env: &Env) -> Result<Config, Vec<String>> {
        Config::parse(|name| env.secret(name).ok().map(|s| s.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string())))
    }

    /// Validates raw values; on failure returns every bad or missing name with the reason.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Config, Vec<String>> {
        let mut problems = Vec::new();
        let secret = get("AUTH_SECRET").unwrap_or_default();
        if secret.len() < MIN_SECRET_BYTES {
            problems.push(format!("AUTH_SECRET (missing or shorter than {MIN_SECRET_BYTES} bytes)"));
        }
        let previous = get("AUTH_SECRET_PREVIOUS").filter(|v| !v.is_empty());
        if previous.as_ref().is_some_and(|s| s.len() < MIN_SECRET_BYTES) {
            problems.push(format!("AUTH_SECRET_PREVIOUS (shorter than {MIN_SECRET_BYTES} bytes)"));
        }
        let mut number = |name: &str, default: u64, min: u64| -> u64 {
            match get(name).filter(|v| !v.trim().is_empty()) {
                None => default,
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if n >= min => n,
                    _ => {
                        problems.push(format!("{name} (must be an integer >= {min}, got {v:?})"));
                        default
                    }
                },
            }
        };
        let rate_limit_per_minute = number("RATE_LIMIT_PER_MINUTE", 600, 1).min(u64::from(u32::MAX)) as u32;
        let max_upload_bytes = number("MAX_UPLOAD_BYTES", 52_428_800, 1);
        let max_input_pixels = number("MAX_INPUT_PIXELS", 100_000_000, 1);
        let memory_budget_bytes = number("MEMORY_BUDGET_BYTES", 100_663_296, 1 << 20);
        let link_ttl_seconds = number("SIGNED_LINK_TTL_SECONDS", 900, 10);
        let render_link_max_ttl_seconds = number("RENDER_LINK_MAX_TTL_SECONDS", 31_536_000, 60);
        let max_token_lifetime_seconds = number("MAX_TOKEN_LIFETIME_SECONDS", 86_400, 60);
        let max_sockets_per_stream = number("MAX_SOCKETS_PER_STREAM", 1000, 1).min(32_768) as usize;
        let step_timeout_seconds = number("STEP_TIMEOUT_SECONDS", 120, 1);
        let queue_timeout_seconds = number("QUEUE_TIMEOUT_SECONDS", 600, 1);
        // The queue's own max_retries (wrangler.toml: 10) must stay above this.
        let step_max_retries = number("STEP_MAX_RETRIES", 3, 0).min(9) as u32;
        let checkpoint_after_ms = number("CHECKPOINT_AFTER_MS", 1_000, 0);
        let result_ttl_days = number("RESULT_TTL_DAYS", 30, 1);
        let token_audience = get("TOKEN_AUDIENCE").map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        // Compared byte for byte with the token's `aud`: control characters or a novel-length
        // value can only be a mistake in the configuration.
        if token_audience.as_ref().is_some_and(|a| a.len() > MAX_AUDIENCE_BYTES || a.chars().any(char::is_control)) {
            problems.push(format!("TOKEN_AUDIENCE (at most {MAX_AUDIENCE_BYTES} bytes, no control characters)"));
        }
        let webhook_secret = get("WEBHOOK_SECRET").filter(|v| !v.is_empty());
        if webhook_secret.as_ref().is_some_and(|s| s.len() < MIN_SECRET_BYTES) {
            problems.push(format!("WEBHOOK_SECRET (shorter than {MIN_SECRET_BYTES} bytes)"));
        }
        let flag = |name: &str| get(name).is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        let webhook_allow_loopback = flag("WEBHOOK_ALLOW_LOOPBACK");
        let inline_first_job = !get("INLINE_FIRST_JOB").is_some_and(|v| matches!(v.trim(), "0" | "false" | "no"));
        let analyze_uploads = !(flag("BENCH_ROUTES") && flag("BENCH_SKIP_ANALYSIS"));
        let faults = Faults::parse(&get("FAULT_INJECTION").unwrap_or_default()).unwrap_or_else(|why| {
            problems.push(format!("FAULT_INJECTION ({why})"));
            Faults::default()
        });
        let dead_letter_queue = get("DEAD_LETTER_QUEUE")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_DEAD_LETTER_QUEUE.to_string());
        // A typo here would make dead letters run as ordinary jobs again, silently: refuse it.
        if !is_queue_name(&dead_letter_queue) {
            problems.push(format!("DEAD_LETTER_QUEUE (a queue name: 1-63 lowercase letters, digits, dashes; got {dead_letter_queue:?})"));
        }
        let max_storage_bytes_per_tenant = match get("MAX_STORAGE_BYTES_PER_TENANT").filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(v) => v.trim().parse::<u64>().map(Some).unwrap_or_else(|_| {
                problems.push(format!("MAX_STORAGE_BYTES_PER_TENANT (must be an integer >= 0 or unset, got {v:?})"));
                None
            }),
        };
        let cron =
            |name: &str, default: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).unwrap_or_else(|| default.into());
        let (retention_cron, backup_cron) = (cron("RETENTION_CRON", DEFAULT_RETENTION_CRON), cron("BACKUP_CRON", DEFAULT_BACKUP_CRON));
        let allowed_origins = get("ALLOWED_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Config {
            auth_secret: Secret(secret.into_bytes()),
            auth_secret_previous: previous.map(|s| Secret(s.into_bytes())),
            max_token_lifetime_seconds,
            token_audience,
            link_ttl_seconds,
            render_link_max_ttl_seconds,
            max_sockets_per_stream,
            allowed_origins,
            rate_limit_per_minute,
            max_upload_bytes,
            max_input_pixels,
            memory_budget_bytes,
            step_timeout_seconds,
            queue_timeout_seconds,
            step_max_retries,
            checkpoint_after_ms,
            inline_first_job,
            webhook_secret: webhook_secret.map(|s| Secret(s.into_bytes())),
            webhook_allow_loopback,
            faults,
            dead_letter_queue,
            max_storage_bytes_per_tenant,
            result_ttl_days,
            retention_cron,
            backup_cron,
            analyze_uploads,
        })
    }

    /// Keys that verify tokens and links (the current one first, then the one being rotated out)
    /// with the token rules; signed links use it as the plain list of keys.
    pub fn verifying_secrets(&self) -> Verifier<'_> {
        let keys = std::iter::once(self.auth_secret.bytes()).chain(self.auth_secret_previous.as_ref().map(Secret::bytes)).collect();
        let rules = Rules {
            max_lifetime_secs: i64::try_from(self.max_token_lifetime_seconds).unwrap_or(i64::MAX),
            audience: self.token_audience.as_deref(),
        };
        Verifier::new(keys, rules)
    }

    /// Retry rules for steps and the zip.
    pub fn step_policy(&self) -> Policy {
        Policy {
            timeout_ms: self.step_timeout_seconds.saturating_mul(1000),
            queue_timeout_ms: self.queue_timeout_seconds.saturating_mul(1000),
            max_retries: self.step_max_retries,
        }
    }

    /// The imaging core's view of the limits.
    pub fn limits(&self) -> functions::plan::Limits {
        functions::plan::Limits { max_pixels: self.max_input_pixels, memory_budget: self.memory_budget_bytes }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
