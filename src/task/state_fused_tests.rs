//! The state machine with fused jobs: a report that proceeds claims the next step in place;
//! cancels, checkpoints and stale reports along the way.

use super::*;

/// A report of a succeeded step whose job asks to go on (and whether it stored a checkpoint).
fn proceed(t: &mut Task, s: usize, attempt: u32, checkpointed: bool, ms: u64) -> (Effects, CompletionResponse) {
    t.report(Completion { job: step(0, s), attempt, outcome: ok(), checkpointed, proceed: true }, &at(ms))
}

#[test]
fn a_job_that_proceeds_gets_the_next_step_claimed_in_place_with_the_same_events() {
    let (mut t, _) = task(1);
    t.claim(step(0, 0), &at(1));
    let (e, answer) = proceed(&mut t, 0, 1, false, 2);
    assert_eq!(types(&e), ["step.succeeded", "step.started"], "what a subscriber sees is unchanged");
    assert!(e.enqueue.is_empty(), "no message: the job runs step 1 itself");
    assert_eq!(answer, CompletionResponse { retry_in_s: None, next_attempt: Some(1) });
    assert_eq!(t.claim(step(0, 1), &at(3)).0.map(|c| c.attempt), None, "a stray message for step 1 is skipped");
    let (e, answer) = t.report(Completion { job: step(0, 1), attempt: 1, outcome: ok(), checkpointed: false, proceed: false }, &at(4));
    assert_eq!((types(&e), answer.next_attempt), (vec!["step.succeeded", "task.succeeded"], None));
}

#[test]
fn a_cancel_stops_a_proceeding_job_at_its_next_report() {
    let (mut t, _) = task(1);
    t.claim(step(0, 0), &at(1));
    t.cancel(&at(2)).expect("cancellable");
    let (e, answer) = proceed(&mut t, 0, 1, false, 3);
    assert_eq!(answer.next_attempt, None, "the job is told to stop");
    assert_eq!(types(&e), ["step.succeeded", "task.cancelled"]);
}

#[test]
fn a_retry_after_a_job_died_resumes_from_the_last_checkpoint() {
    let chain = Chain::parse(&json!([{"op":"grayscale"},{"op":"grayscale"},{"op":"grayscale"},{"op":"grayscale"}])).expect("chain");
    let (mut t, _) = Task::new(NewTask { chain, ..new_task(1, &[], false) }, &at(0));
    t.claim(step(0, 0), &at(1));
    proceed(&mut t, 0, 1, false, 2);
    proceed(&mut t, 1, 1, true, 3);
    proceed(&mut t, 2, 1, false, 4);
    // The job dies while running step 3: the watchdog sends it again.
    let e = t.expire(&at(t.next_deadline().expect("a deadline")));
    assert_eq!((types(&e), e.enqueue.clone()), (vec!["step.retrying"], vec![step(0, 3)]));
    let Some(Claimed { attempt: 2, work: Work::Step(spec) }) = t.claim(step(0, 3), &at(5)).0 else { panic!("step 3 runs again") };
    assert_eq!((spec.start, spec.resume_from), (3, 2), "step 2 is redone from step 1's checkpoint");
    assert_eq!(spec.input_key, keys::step_output(&t.id, 0, 1));
    assert_eq!(spec.cleanup, [keys::step_output(&t.id, 0, 1)], "deleted once the result is recorded");
}

#[test]
fn a_stale_report_from_a_job_the_watchdog_replaced_does_not_claim_the_next_step() {
    let (mut t, _) = task(1);
    t.claim(step(0, 0), &at(1));
    t.expire(&at(t.next_deadline().expect("a deadline")));
    t.claim(step(0, 0), &at(TIMEOUT + 1)).0.expect("attempt 2 runs");
    let (e, answer) = proceed(&mut t, 0, 1, false, TIMEOUT + 2);
    assert_eq!((e, answer), (Effects::default(), CompletionResponse::default()), "attempt 1 is stale");
}

fn encode(n: u8) -> functions::ops::fit::Attempt {
    functions::ops::fit::Attempt { encode: n, quality: 90 - n * 10, bytes: 5_000 - u64::from(n) * 500, fits: n > 2 }
}

fn search(t: &mut Task, (image, s, attempt): (usize, usize, u32), n: u8, ms: u64) -> Effects {
    t.step_progress(crate::messages::StepProgress { image, step: s, attempt, search: encode(n) }, &at(ms))
}

#[test]
fn each_encode_of_the_running_attempt_is_one_event_and_nothing_else_speaks() {
    let (mut t, _) = task(1);
    t.claim(step(0, 0), &at(1));
    let e = search(&mut t, (0, 0, 1), 1, 2);
    assert!(matches!(e.events.as_slice(), [Event::StepProgress { step: 0, attempt: 1, search, .. }] if *search == encode(1)), "{e:?}");
    assert!(e.enqueue.is_empty());
    // A stale attempt, a step not running yet, a step or image that does not exist: silence.
    for job in [(0, 0, 2), (0, 1, 1), (0, 7, 1), (3, 0, 1)] {
        assert!(search(&mut t, job, 2, 3).is_empty(), "{job:?}");
    }
    t.cancel(&at(4)).expect("cancel");
    assert!(search(&mut t, (0, 0, 1), 3, 5).is_empty(), "a task being cancelled reports no more encodes");
}
