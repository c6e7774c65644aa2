//! The tenant's feed: one summary event per task change a dashboard cares about (created,
//! progress, finished), derived from the task snapshots the task objects write into the index,
//! and `image.analyzed` when an upload's placeholder is ready; with its own gap-free `seq`.

use crate::ids::ImageId;
use functions::placeholder::Placeholder;
use serde_json::{json, Value};

/// Events older than the newest this many are dropped (a dashboard far behind reloads the
/// listing instead).
pub const RETAINED: i64 = 10_000;

/// The previous snapshot of a task in the index, if any.
pub struct Previous {
    pub status: String,
    pub version: u64,
    pub progress: Value,
}

pub fn is_terminal(status: &str) -> bool {
    matches!(status, "succeeded" | "failed" | "cancelled")
}

/// The feed event types a new snapshot (`status`, `version`, `progress`) of a task warrants, in
/// order; none for a stale or unchanged snapshot.
///
/// The first snapshot the index sees is `task.created`. It may show a task that has already
/// ended (every step reused from earlier results: the task is created succeeded) or moved on (a
/// creation write that failed or arrived after a later one); then the feed also says what it
/// would have said next, so that it always shows a task created, then progressing, then
/// finished. Before, such a task was only ever announced: a dashboard showed it queued forever.
pub fn kinds(previous: Option<&Previous>, status: &str, version: u64, progress: &Value) -> Vec<&'static str> {
    let Some(prev) = previous else {
        let moved = progress["done"].as_u64().is_some_and(|done| done > 0);
        return match (is_terminal(status), moved) {
            (true, _) => vec!["task.created", "task.finished"],
            (false, true) => vec!["task.created", "task.progress"],
            (false, false) => vec!["task.created"],
        };
    };
    if version <= prev.version {
        return Vec::new();
    }
    if is_terminal(status) && !is_terminal(&prev.status) {
        return vec!["task.finished"];
    }
    if status != prev.status || *progress != prev.progress {
        vec!["task.progress"]
    } else {
        Vec::new()
    }
}

/// The feed event (without `seq`, added when it is appended).
pub fn event(kind: &str, snapshot: &Value, at: &str) -> Value {
    let mut e = json!({"type": kind, "task": snapshot["id"], "status": snapshot["status"], "progress": snapshot["progress"], "at": at});
    if kind == "task.finished" && !snapshot["error"].is_null() {
        e["error"] = snapshot["error"].clone();
    }
    e
}

/// `image.analyzed`: the image's placeholder is ready (without `seq`, added when appended).
pub fn analyzed(image: &ImageId, placeholder: &Placeholder, at: &str) -> Value {
    json!({"type": "image.analyzed", "image": image, "placeholder": placeholder, "at": at})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prev(status: &str, version: u64, done: u64) -> Previous {
        Previous { status: status.into(), version, progress: json!({"done": done, "total": 4}) }
    }

    #[test]
    fn a_task_is_created_then_progresses_then_finishes_once() {
        assert_eq!(kinds(None, "queued", 1, &json!({"done": 0, "total": 4})), ["task.created"]);
        assert_eq!(kinds(Some(&prev("queued", 1, 0)), "running", 3, &json!({"done": 1, "total": 4})), ["task.progress"]);
        assert_eq!(kinds(Some(&prev("running", 3, 3)), "succeeded", 9, &json!({"done": 4, "total": 4})), ["task.finished"]);
    }

    #[test]
    fn a_task_first_seen_running_or_ended_is_announced_then_shown_as_it_is() {
        assert_eq!(kinds(None, "running", 4, &json!({"done": 2, "total": 4})), ["task.created", "task.progress"]);
        assert_eq!(kinds(None, "running", 2, &json!({"done": 0, "total": 4})), ["task.created"], "started, no step done yet");
        assert_eq!(kinds(None, "succeeded", 9, &json!({"done": 4, "total": 4})), ["task.created", "task.finished"]);
        assert_eq!(kinds(None, "failed", 3, &json!({"done": 0, "total": 4})), ["task.created", "task.finished"]);
    }

    #[test]
    fn stale_or_unchanged_snapshots_emit_nothing() {
        let none: [&str; 0] = [];
        assert_eq!(kinds(Some(&prev("running", 5, 2)), "running", 4, &json!({"done": 3, "total": 4})), none, "older version");
        assert_eq!(kinds(Some(&prev("running", 5, 2)), "running", 6, &json!({"done": 2, "total": 4})), none, "nothing changed");
        assert_eq!(kinds(Some(&prev("failed", 5, 2)), "failed", 6, &json!({"done": 2, "total": 4})), none, "already finished");
    }

    #[test]
    fn a_finished_event_carries_the_error() {
        let snap = json!({"id": "task_1", "status": "failed", "progress": {"done": 1, "total": 2}, "error": {"code": "invalid_image"}});
        let e = event("task.finished", &snap, "2026-11-24T00:00:00.000Z");
        assert_eq!((e["task"].as_str(), e["error"]["code"].as_str()), (Some("task_1"), Some("invalid_image")));
    }
}
