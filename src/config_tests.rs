//! Tests of the typed configuration (`super`): defaults, validation, every bad name at once.

use super::*;
use std::collections::HashMap;

fn parse(pairs: &[(&str, &str)]) -> Result<Config, Vec<String>> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::parse(|n| map.get(n).cloned())
}

#[test]
fn defaults_apply_when_only_the_secret_is_set() {
    let c = parse(&[("AUTH_SECRET", &"k".repeat(32))]).expect("valid");
    assert_eq!((c.max_upload_bytes, c.rate_limit_per_minute), (52_428_800, 600));
    assert!(c.allowed_origins.is_empty());
}

#[test]
fn every_bad_name_is_reported_at_once() {
    let errs = parse(&[("AUTH_SECRET", "short"), ("MAX_UPLOAD_BYTES", "lots")]).unwrap_err();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].starts_with("AUTH_SECRET") && errs[1].starts_with("MAX_UPLOAD_BYTES"));
}

#[test]
fn task_engine_settings_have_defaults_and_are_validated() {
    let c = parse(&[("AUTH_SECRET", &"k".repeat(32))]).expect("valid");
    assert_eq!(c.step_policy(), Policy { timeout_ms: 120_000, queue_timeout_ms: 600_000, max_retries: 3 });
    assert!(c.webhook_secret.is_none() && c.faults == crate::faults::Faults::default() && !c.webhook_allow_loopback);
    let errs = parse(&[("AUTH_SECRET", &"k".repeat(32)), ("WEBHOOK_SECRET", "short"), ("FAULT_INJECTION", "boom")]).unwrap_err();
    assert!(errs[0].starts_with("WEBHOOK_SECRET") && errs[1].starts_with("FAULT_INJECTION"), "{errs:?}");
}

#[test]
fn token_rules_default_to_a_day_and_no_audience() {
    let c = parse(&[("AUTH_SECRET", &"k".repeat(32))]).expect("valid");
    assert_eq!((c.max_token_lifetime_seconds, c.token_audience.as_deref()), (86_400, None));
    let v = c.verifying_secrets();
    assert_eq!(v.len(), 1);
}

#[test]
fn token_rules_are_read_and_validated() {
    let c =
        parse(&[("AUTH_SECRET", &"k".repeat(32)), ("MAX_TOKEN_LIFETIME_SECONDS", "3600"), ("TOKEN_AUDIENCE", " studio ")]).expect("valid");
    assert_eq!((c.max_token_lifetime_seconds, c.token_audience.as_deref()), (3600, Some("studio")));
    let blank = parse(&[("AUTH_SECRET", &"k".repeat(32)), ("TOKEN_AUDIENCE", "  ")]).expect("valid");
    assert!(blank.token_audience.is_none(), "blank means unset");
    let errs =
        parse(&[("AUTH_SECRET", &"k".repeat(32)), ("MAX_TOKEN_LIFETIME_SECONDS", "10"), ("TOKEN_AUDIENCE", &"a".repeat(257))]).unwrap_err();
    assert!(errs[0].starts_with("MAX_TOKEN_LIFETIME_SECONDS") && errs[1].starts_with("TOKEN_AUDIENCE"), "{errs:?}");
    assert!(parse(&[("AUTH_SECRET", &"k".repeat(32)), ("MAX_TOKEN_LIFETIME_SECONDS", "-1")]).is_err());
    assert!(parse(&[("AUTH_SECRET", &"k".repeat(32)), ("TOKEN_AUDIENCE", "a\nb")]).is_err());
}

#[test]
fn the_dead_letter_queue_is_named_by_configuration_and_validated() {
    let c = parse(&[("AUTH_SECRET", &"k".repeat(32)), ("DEAD_LETTER_QUEUE", " studio-staging-dlq ")]).expect("valid");
    assert_eq!(c.dead_letter_queue, "studio-staging-dlq");
    let unset = parse(&[("AUTH_SECRET", &"k".repeat(32))]).expect("valid");
    assert_eq!(unset.dead_letter_queue, DEFAULT_DEAD_LETTER_QUEUE);
    for bad in ["Studio_DLQ", "a b", &"q".repeat(64)] {
        let errs = parse(&[("AUTH_SECRET", &"k".repeat(32)), ("DEAD_LETTER_QUEUE", bad)]).unwrap_err();
        assert!(errs[0].starts_with("DEAD_LETTER_QUEUE"), "{bad:?}: {errs:?}");
    }
}

#[test]
fn the_storage_quota_is_unlimited_unless_set() {
    let unset = parse(&[("AUTH_SECRET", &"k".repeat(32))]).expect("valid");
    assert_eq!(unset.max_storage_bytes_per_tenant, None);
    let set = parse(&[("AUTH_SECRET", &"k".repeat(32)), ("MAX_STORAGE_BYTES_PER_TENANT", " 1048576 ")]).expect("valid");
    assert_eq!(set.max_storage_bytes_per_tenant, Some(1_048_576));
    let errs = parse(&[("AUTH_SECRET", &"k".repeat(32)), ("MAX_STORAGE_BYTES_PER_TENANT", "1 GB")]).unwrap_err();
    assert!(errs[0].starts_with("MAX_STORAGE_BYTES_PER_TENANT"), "{errs:?}");
}

#[test]
fn retention_keeps_outputs_thirty_days_unless_set_and_names_its_crons() {
    let c = parse(&[("AUTH_SECRET", &"k".repeat(32))]).expect("valid");
    assert_eq!((c.result_ttl_days, c.retention_cron.as_str(), c.backup_cron.as_str()), (30, DEFAULT_RETENTION_CRON, DEFAULT_BACKUP_CRON));
    let set = parse(&[("AUTH_SECRET", &"k".repeat(32)), ("RESULT_TTL_DAYS", "7"), ("BACKUP_CRON", " 0 * * * * ")]).expect("valid");
    assert_eq!((set.result_ttl_days, set.backup_cron.as_str()), (7, "0 * * * *"));
    for bad in ["0", "0.5", "-1", "week"] {
        let errs = parse(&[("AUTH_SECRET", &"k".repeat(32)), ("RESULT_TTL_DAYS", bad)]).unwrap_err();
        assert!(errs[0].starts_with("RESULT_TTL_DAYS"), "{bad:?}: {errs:?}");
    }
}

#[test]
fn origins_are_split_and_trimmed() {
    let c = parse(&[("AUTH_SECRET", &"k".repeat(40)), ("ALLOWED_ORIGINS", " https://a.example/, https://b.example ")]).expect("valid");
    assert_eq!(c.allowed_origins, ["https://a.example", "https://b.example"]);
}

#[test]
fn uploads_are_analysed_unless_a_benchmark_server_skips_it() {
    let key = "k".repeat(32);
    assert!(parse(&[("AUTH_SECRET", &key)]).expect("valid").analyze_uploads);
    let deployed = parse(&[("AUTH_SECRET", &key), ("BENCH_SKIP_ANALYSIS", "1")]).expect("valid");
    assert!(deployed.analyze_uploads, "without the dev-only bench routes the var is ignored");
    let bench = parse(&[("AUTH_SECRET", &key), ("BENCH_ROUTES", "1"), ("BENCH_SKIP_ANALYSIS", "1")]).expect("valid");
    assert!(!bench.analyze_uploads);
}

#[test]
fn timeouts_too_large_for_milliseconds_saturate_instead_of_overflowing() {
    let huge = u64::MAX.to_string();
    let c = parse(&[("AUTH_SECRET", &"k".repeat(32)), ("STEP_TIMEOUT_SECONDS", &huge), ("QUEUE_TIMEOUT_SECONDS", &huge)]);
    let policy = c.expect("any whole number of seconds is accepted").step_policy();
    assert_eq!((policy.timeout_ms, policy.queue_timeout_ms), (u64::MAX, u64::MAX));
}
