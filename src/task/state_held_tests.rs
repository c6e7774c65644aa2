//! Held reports (`task::held`): a step's report sent together with the next step's.

use super::*;

/// Step 0 succeeded and its job went on (held); then step 1's `outcome`, as the job reports it
/// without knowing the attempt step 0's report will claim.
fn held(outcome: Outcome) -> Vec<Completion> {
    let first = Completion { job: step(0, 0), attempt: 1, outcome: ok(), checkpointed: false, proceed: true };
    vec![first, Completion { job: step(0, 1), attempt: 0, outcome, checkpointed: false, proceed: false }]
}

#[test]
fn held_reports_record_what_the_same_reports_sent_one_by_one_record() {
    let (mut one_by_one, _) = task(1);
    one_by_one.claim(step(0, 0), &at(1));
    let [first, second] = <[Completion; 2]>::try_from(held(ok())).expect("two");
    let (mut expected, answer) = one_by_one.report(first, &at(2));
    let second = Completion { attempt: answer.next_attempt.expect("step 1 claimed in place"), ..second };
    let (rest, expected_answer) = one_by_one.report(second, &at(2));
    expected.extend(rest);

    let (mut together, _) = task(1);
    together.claim(step(0, 0), &at(1));
    let (effects, answer) = together.report_held(held(ok()), &at(2));
    assert_eq!(types(&effects), ["step.succeeded", "step.started", "step.succeeded", "task.succeeded"]);
    assert_eq!((effects, answer), (expected, expected_answer), "same events, same order, same answer");
    assert_eq!(together, one_by_one, "same task afterwards");
}

#[test]
fn the_held_step_is_recorded_as_the_attempt_its_predecessor_claimed() {
    let (mut t, _) = task(1);
    t.claim(step(0, 0), &at(1));
    let (e, _) = t.report_held(held(ok()), &at(2));
    assert!(e.events.iter().any(|e| matches!(e, Event::StepStarted { step: 1, attempt: 1, .. })), "{e:?}");
    assert_eq!(t.status, TaskStatus::Succeeded, "not dropped as a stale attempt 0");
}

#[test]
fn a_cancel_drops_the_held_step_as_it_would_have_stopped_the_job() {
    let (mut t, _) = task(1);
    t.claim(step(0, 0), &at(1));
    t.cancel(&at(2)).expect("cancellable");
    let (e, answer) = t.report_held(held(ok()), &at(3));
    assert_eq!(types(&e), ["step.succeeded", "task.cancelled"]);
    assert_eq!(answer, CompletionResponse::default(), "the job is told to stop");
}

#[test]
fn a_held_step_that_failed_fails_the_task_after_its_predecessor_succeeded() {
    let (mut t, _) = task(1);
    t.claim(step(0, 0), &at(1));
    let failed = Outcome::Failed { code: "invalid_image".into(), message: "bad".into() };
    let (e, answer) = t.report_held(held(failed), &at(2));
    assert_eq!(types(&e), ["step.succeeded", "step.started", "step.failed", "task.failed"]);
    assert_eq!(answer.next_attempt, None);
}
