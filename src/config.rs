//! The typed configuration, read from vars and secrets and validated on every event.
//!
//! A half-configured Worker must not run: any bad or missing name makes every route answer 503
//! `unavailable` listing the names (see `../shared/API.md`, "Configuration").

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

#[derive(Debug, Clone)]
pub struct Config {
    pub auth_secret: Secret,
    pub allowed_origins: Vec<String>,
    pub rate_limit_per_minute: u32,
    pub max_upload_bytes: u64,
    pub max_input_pixels: u64,
    pub memory_budget_bytes: u64,
}

impl Config {
    /// Reads the Worker's environment.
    pub fn from_env(env: &Env) -> Result<Config, Vec<String>> {
        Config::parse(|name| {
            env.secret(name).ok().map(|s| s.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string()))
        })
    }

    /// Validates raw values; on failure returns every bad or missing name with the reason.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Config, Vec<String>> {
        let mut problems = Vec::new();
        let secret = get("AUTH_SECRET").unwrap_or_default();
        if secret.len() < MIN_SECRET_BYTES {
            problems.push(format!("AUTH_SECRET (missing or shorter than {MIN_SECRET_BYTES} bytes)"));
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
            allowed_origins,
            rate_limit_per_minute,
            max_upload_bytes,
            max_input_pixels,
            memory_budget_bytes,
        })
    }

    /// The imaging core's view of the limits.
    pub fn limits(&self) -> functions::plan::Limits {
        functions::plan::Limits { max_pixels: self.max_input_pixels, memory_budget: self.memory_budget_bytes }
    }
}

#[cfg(test)]
mod tests {
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
    fn origins_are_split_and_trimmed() {
        let c = parse(&[("AUTH_SECRET", &"k".repeat(40)), ("ALLOWED_ORIGINS", " https://a.example/, https://b.example ")])
            .expect("valid");
        assert_eq!(c.allowed_origins, ["https://a.example", "https://b.example"]);
    }
}
