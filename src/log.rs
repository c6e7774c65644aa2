//! Structured logs: every line is one JSON object with `level`, `event` and `request_id`, plus
//! `tenant`, `task`, `image` and `step` where they apply, built with [`Line`] and written with
//! [`Line::emit`].
//!
//! Workers Logs (`[observability]` in wrangler.toml) index these fields, so an operator filters
//! by tenant or task instead of grepping prose (docs/OPERATIONS.md). `request_id` is always
//! present (null outside a request, the message id in the queue consumer) so that every line
//! has the same shape. Every string is passed through [`redact`] on the way out: nothing that
//! authenticates — a bearer token, a JWT, a signed link's `sig=` — may reach a log, even inside
//! a platform error's text that quoted a URL or a header.

use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// A log line being built. Nothing is written until [`Line::emit`].
#[must_use = "a log line is only written by emit()"]
#[derive(Debug, Clone)]
pub struct Line {
    level: Level,
    fields: Map<String, Value>,
}

/// A line about something that went as expected.
pub fn info(event: &str) -> Line {
    Line::new(Level::Info, event)
}

/// A line about something odd that the code handled.
pub fn warn(event: &str) -> Line {
    Line::new(Level::Warn, event)
}

/// A line about a failure an operator may have to act on.
pub fn error(event: &str) -> Line {
    Line::new(Level::Error, event)
}

impl Line {
    fn new(level: Level, event: &str) -> Line {
        let mut fields = Map::new();
        fields.insert("level".into(), level.name().into());
        fields.insert("event".into(), event.into());
        fields.insert("request_id".into(), Value::Null);
        Line { level, fields }
    }

    /// The request (`x-request-id`) or, in the queue consumer, the message this line is about.
    pub fn request_id(self, id: &str) -> Line {
        self.field("request_id", id)
    }

    pub fn tenant(self, tenant: &str) -> Line {
        self.field("tenant", tenant)
    }

    pub fn task(self, task: &str) -> Line {
        self.field("task", task)
    }

    /// The image: its id, or its index within a task.
    pub fn image(self, image: impl Serialize) -> Line {
        self.field("image", image)
    }

    /// The step's index in the chain.
    pub fn step(self, step: usize) -> Line {
        self.field("step", step)
    }

    /// A task's job: `job` as the task object names it, plus `image` and `step` for a step.
    pub fn job(self, job: crate::messages::JobRef) -> Line {
        let line = self.field("job", job);
        match job {
            crate::messages::JobRef::Step { image, step } => line.image(image).step(step),
            _ => line,
        }
    }

    /// Any other field; a value that cannot be serialised is logged as null rather than lost.
    pub fn field(mut self, key: &str, value: impl Serialize) -> Line {
        self.fields.insert(key.into(), serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }

    /// The line as written: one JSON object, every string redacted.
    pub fn render(&self) -> String {
        let mut value = Value::Object(self.fields.clone());
        redact_value(&mut value);
        value.to_string()
    }

    /// Writes the line to the console (Workers Logs; `wrangler dev` prints it).
    pub fn emit(self) {
        write(self.level, &self.render());
    }
}

#[cfg(target_arch = "wasm32")]
fn write(level: Level, line: &str) {
    match level {
        Level::Info => worker::console_log!("{line}"),
        Level::Warn => worker::console_warn!("{line}"),
        Level::Error => worker::console_error!("{line}"),
    }
}

/// Natively (unit tests) there is no JS console to write to.
#[cfg(not(target_arch = "wasm32"))]
fn write(_level: Level, line: &str) {
    eprintln!("{line}");
}

fn redact_value(value: &mut Value) {
    match value {
        Value::String(s) => {
            let clean = redact(s);
            if clean != *s {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::Object(map) => map.values_mut().for_each(redact_value),
        _ => {}
    }
}

/// What stands in for a credential in a log.
pub const REDACTED: &str = "[redacted]";

/// `text` with credentials replaced by [`REDACTED`]: the value of every `sig=` (a signed link),
/// whatever follows `Bearer `, and anything shaped like a JWT (`eyJ…` with two dots).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, skip)) = next_credential(rest) {
        out.push_str(&rest[..at]);
        let value = &rest[at + skip..];
        let end = value.find(|c: char| !is_token_char(c)).unwrap_or(value.len());
        if skip == 0 {
            out.push_str(REDACTED);
        } else {
            out.push_str(&rest[at..at + skip]);
            out.push_str(REDACTED);
        }
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// The next credential in `text`: where it starts and how much of it is a kept prefix.
fn next_credential(text: &str) -> Option<(usize, usize)> {
    let sig = text.find("sig=").map(|at| (at, "sig=".len()));
    let bearer = text.find("Bearer ").or_else(|| text.find("bearer ")).map(|at| (at, "Bearer ".len()));
    let jwt = jwt_start(text).map(|at| (at, 0));
    [sig, bearer, jwt].into_iter().flatten().min_by_key(|(at, _)| *at)
}

/// Where a JWT-shaped run (`eyJ` + base64url, exactly two dots) starts.
fn jwt_start(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find("eyJ") {
        let at = from + found;
        let run = &text[at..];
        let end = run.find(|c: char| !is_token_char(c)).unwrap_or(run.len());
        if run[..end].matches('.').count() == 2 {
            return Some(at);
        }
        from = at + 3;
    }
    None
}

/// Characters of base64url, JWTs and link signatures (and percent-escapes of them).
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '%' | '+' | '/' | '=')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_has_level_event_and_request_id_and_the_ids_that_apply() {
        let line: Value = serde_json::from_str(&info("job").task("task_1").image(2).step(3).field("ms", 12).render()).unwrap();
        assert_eq!(line["level"], "info");
        assert_eq!(line["event"], "job");
        assert!(line.get("request_id").is_some_and(Value::is_null), "present even outside a request: {line}");
        assert_eq!((line["task"].as_str(), line["image"].as_u64(), line["step"].as_u64()), (Some("task_1"), Some(2), Some(3)));
        assert!(line.get("tenant").is_none(), "absent where it does not apply: {line}");
        let line: Value = serde_json::from_str(&error("request").request_id("abc").tenant("alice").render()).unwrap();
        assert_eq!(
            (line["level"].as_str(), line["request_id"].as_str(), line["tenant"].as_str()),
            (Some("error"), Some("abc"), Some("alice"))
        );
    }

    #[test]
    fn signed_link_signatures_are_redacted_wherever_they_appear() {
        let text = "fetch https://x/tasks/t/download?exp=1&sub=a&sig=AbC-_123%3D&z=1 failed";
        assert_eq!(redact(text), "fetch https://x/tasks/t/download?exp=1&sub=a&sig=[redacted]&z=1 failed");
        let line = warn("x").field("detail", json_with("sig=zzz")).render();
        assert!(!line.contains("zzz"), "nested values too: {line}");
    }

    #[test]
    fn bearer_tokens_and_jwts_are_redacted() {
        assert_eq!(redact("Authorization: Bearer opaque-token-1 sent"), "Authorization: Bearer [redacted] sent");
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl";
        assert_eq!(redact(&format!("token {jwt}, then")), "token [redacted], then");
        assert_eq!(redact("eyJ alone is not a token."), "eyJ alone is not a token.");
        assert_eq!(redact("plain text, no credentials"), "plain text, no credentials");
    }

    fn json_with(s: &str) -> Value {
        serde_json::json!({"nested": [s]})
    }
}
