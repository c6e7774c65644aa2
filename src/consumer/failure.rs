//! Transient failures, told twice: a stable, human sentence for clients and the platform's own
//! text for operators.
//!
//! The platform's error text (an R2 or fetch error's `Display`) can carry internal names,
//! addresses and wording that changes between runtime versions; whatever goes into
//! [`Outcome::Transient`] ends up in `step.retrying` events and, once retries are spent, in
//! `task.error.message`. So the text is replaced here, where the error is born, and the task
//! object never sees it: the client gets [`Kind::public_message`], the log gets the cause with
//! the task, job and attempt (one JSON line, like the consumer's other lines).

use crate::ids::TaskId;
use crate::log;
use crate::messages::{JobRef, Outcome};
use std::fmt::Display;

/// What failed, as far as a client needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// R2: the input, an image a step reads, a result or a checkpoint.
    Storage,
    /// The zip's multipart upload: starting it, a part, or completing it.
    Upload,
    /// Writing the zip itself (not expected; retried all the same).
    Archive,
    /// The webhook receiver: no answer at all (DNS, TLS, connection).
    Receiver,
}

impl Kind {
    /// The sentence clients see; stable, so clients may show it as is.
    pub fn public_message(self) -> &'static str {
        match self {
            Kind::Storage => "storage was unavailable",
            Kind::Upload => "storage was unavailable while uploading the zip",
            Kind::Archive => "the zip could not be written",
            Kind::Receiver => "the webhook receiver could not be reached",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Storage => "storage",
            Kind::Upload => "upload",
            Kind::Archive => "archive",
            Kind::Receiver => "receiver",
        }
    }
}

/// Which run of which job failed: what the log line names.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub task: &'a TaskId,
    pub job: JobRef,
    pub attempt: u32,
}

/// The public message and the log line for a failure of `kind` caused by `cause`.
pub fn describe(kind: Kind, at: Attempt<'_>, cause: &str) -> (&'static str, log::Line) {
    let line = log::warn("transient").task(at.task.as_str()).job(at.job).field("attempt", at.attempt);
    (kind.public_message(), line.field("kind", kind.name()).field("detail", cause))
}

/// Logs the cause and returns the outcome to report, which carries only the public message.
pub fn transient(kind: Kind, at: Attempt<'_>, cause: impl Display) -> Outcome {
    let (public, line) = describe(kind, at, &cause.to_string());
    line.emit();
    Outcome::Transient { message: public.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAUSE: &str = "R2 GET failed: internal error 10001 at 10.0.0.7 (colo LHR)";

    fn task() -> TaskId {
        TaskId::parse(&format!("task_{}", "0a".repeat(16))).expect("a well-formed id")
    }

    #[test]
    fn clients_get_a_stable_sentence_without_the_platform_text() {
        let task = task();
        let at = Attempt { task: &task, job: JobRef::Step { image: 1, step: 2 }, attempt: 3 };
        for kind in [Kind::Storage, Kind::Upload, Kind::Archive, Kind::Receiver] {
            let (public, _) = describe(kind, at, CAUSE);
            assert_eq!(public, kind.public_message());
            assert!(!public.contains("10001") && !public.contains("10.0.0.7"), "{public}");
        }
        assert_eq!(describe(Kind::Storage, at, CAUSE).0, "storage was unavailable");
        assert_eq!(describe(Kind::Receiver, at, "dns error").0, "the webhook receiver could not be reached");
    }

    #[test]
    fn the_log_line_keeps_the_cause_with_the_task_job_and_attempt() {
        let task = task();
        let at = Attempt { task: &task, job: JobRef::Package, attempt: 2 };
        let line = describe(Kind::Upload, at, CAUSE).1.render();
        let v: serde_json::Value = serde_json::from_str(&line).expect("one JSON line");
        assert!(!line.contains('\n'));
        assert_eq!(v["event"], "transient");
        assert_eq!(v["task"], task.as_str());
        assert_eq!(v["job"], "package");
        assert_eq!(v["attempt"], 2);
        assert_eq!(v["kind"], "upload");
        assert_eq!(v["detail"], CAUSE);
    }

    #[test]
    fn the_reported_outcome_is_transient_with_only_the_public_message() {
        let task = task();
        let at = Attempt { task: &task, job: JobRef::Webhook, attempt: 1 };
        let outcome = transient(Kind::Receiver, at, CAUSE);
        assert_eq!(outcome, Outcome::Transient { message: "the webhook receiver could not be reached".into() });
    }
}
