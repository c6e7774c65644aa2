//! Unit tests of the watchdog: silent runs, lost messages, and a queue refusing sends.

use super::*;

#[test]
fn the_watchdog_retries_a_silent_run_and_fails_it_when_the_budget_is_spent() {
    let (mut t, _) = task(1);
    t.claim(step(0, 0), &at(0));
    assert!(t.expire(&at(TIMEOUT - 1)).is_empty(), "not overdue yet");
    for attempt in 2..=3 {
        let now = t.next_deadline().expect("a deadline");
        let e = t.expire(&at(now));
        assert_eq!((types(&e), e.enqueue.clone()), (vec!["step.retrying"], vec![step(0, 0)]));
        assert_eq!(t.claim(step(0, 0), &at(now)).0.expect("runs").attempt, attempt);
    }
    let e = t.expire(&at(t.next_deadline().expect("deadline")));
    assert_eq!(types(&e), ["step.failed", "task.failed"]);
    assert_eq!(t.error.as_ref().map(|e| e.code.as_str()), Some("timeout"));
    assert_eq!(t.next_deadline(), None);
}

#[test]
fn a_lost_message_is_resent_silently_and_a_late_success_still_counts() {
    let (mut t, _) = task(1);
    let e = t.expire(&at(TIMEOUT));
    assert_eq!((e.events.len(), e.enqueue.clone()), (0, vec![step(0, 0)]), "unclaimed: re-sent, nothing announced");
    t.claim(step(0, 0), &at(TIMEOUT));
    t.expire(&at(2 * TIMEOUT));
    let (e, _) = t.complete(step(0, 0), 1, ok(), &at(2 * TIMEOUT + 1));
    assert_eq!(types(&e), ["step.succeeded"], "attempt 1 reported after the watchdog re-queued it");
    assert!(t.claim(step(0, 0), &at(2 * TIMEOUT + 2)).0.is_none(), "the re-sent message is then skipped");
}

#[test]
fn a_message_never_picked_up_fails_the_task_after_its_redispatches() {
    let (mut t, _) = task(1);
    for _ in 0..=lease::MAX_REDISPATCHES {
        let now = t.next_deadline().expect("deadline");
        t.expire(&at(now));
    }
    assert_eq!((t.status, t.error.as_ref().map(|e| e.code.as_str())), (TaskStatus::Failed, Some("unavailable")));
}

/// A tick whose queue timeout is the default's 10 minutes.
fn at_patient(ms: u64) -> Tick {
    Tick { policy: Policy { queue_timeout_ms: 600_000, ..at(ms).policy }, ..at(ms) }
}

/// Lets the watchdog re-send step (0, 0) while every send fails, until `until_ms`; returns
/// the number of re-sends and when the last was due.
fn refuse_sends(t: &mut Task, until_ms: u64) -> (usize, u64) {
    t.expedite(&[step(0, 0)], 0);
    let (mut resends, mut now) = (0, 0);
    while let Some(due) = t.next_deadline().filter(|&d| d <= until_ms) {
        now = due;
        let e = t.expire(&at_patient(now));
        if t.status.is_terminal() {
            break;
        }
        assert_eq!((e.enqueue, e.events.len()), (vec![step(0, 0)], 0), "re-sent at {now} ms, nothing announced");
        t.expedite(&[step(0, 0)], now);
        resends += 1;
    }
    (resends, now)
}

#[test]
fn a_queue_refusing_sends_for_ninety_seconds_delays_the_task_but_spends_none_of_its_resends() {
    let (mut t, _) = task(1);
    let (resends, now) = refuse_sends(&mut t, 90_000);
    assert!(resends > lease::MAX_REDISPATCHES as usize, "{resends} failed re-sends");
    assert_eq!(t.status, TaskStatus::Queued, "still waiting for the queue");
    let due = t.next_deadline().expect("the next re-send");
    assert!(due - now <= lease::SEND_RETRY_MAX_MS, "re-sent at most 30 s apart");
    t.expire(&at_patient(due));
    assert_eq!(t.claim(step(0, 0), &at_patient(due + 5)).0.map(|c| c.attempt), Some(1), "the send that got through is claimed");
}

#[test]
fn a_queue_refusing_sends_for_the_queue_timeout_fails_the_task_unavailable() {
    let (mut t, _) = task(1);
    refuse_sends(&mut t, 700_000);
    assert_eq!((t.status, t.error.as_ref().map(|e| e.code.as_str())), (TaskStatus::Failed, Some("unavailable")));
    assert!(t.error.as_ref().is_some_and(|e| e.message.contains("refused")), "{:?}", t.error);
}
