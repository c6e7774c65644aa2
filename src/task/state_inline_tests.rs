//! The state machine with the first job handed, claimed, to the creating request
//! ([`crate::task::inline`]): the queue gets the rest, the watchdog covers a creator that died.

use super::*;
use crate::task::inline::INLINE_RUN_MS;
use crate::task::lease::{Overdue, Policy};

#[test]
fn the_first_image_is_handed_over_claimed_and_the_others_still_go_to_the_queue() {
    let (mut t, mut effects) = task(3);
    let (job, claimed) = t.hand_over_first(&mut effects, &at(0), false).expect("handed over");
    assert_eq!((job, claimed.attempt), (step(0, 0), 1));
    assert_eq!(effects.enqueue, vec![step(1, 0), step(2, 0)]);
    assert_eq!(types(&effects), vec!["task.queued", "step.started"], "the events a queued task and its claim give");
    assert_eq!(t.status, TaskStatus::Running);
}

#[test]
fn a_handed_over_job_is_not_claimed_again_by_a_queue_message() {
    let (mut t, mut effects) = task(1);
    t.hand_over_first(&mut effects, &at(0), false);
    assert!(t.claim(step(0, 0), &at(5)).0.is_none(), "a queue message for it (the watchdog's, a duplicate) is skipped");
}

#[test]
fn a_handed_over_job_whose_creator_died_is_retried_through_the_queue_once_wait_until_is_over() {
    // A step timeout far longer than a request's `wait_until`: the alarm must wake for the latter.
    let slow = Tick { policy: Policy { timeout_ms: 600_000, ..at(0).policy }, ..at(0) };
    let (mut t, mut effects) = Task::new(new_task(1, &[], false), &slow);
    t.hand_over_first(&mut effects, &slow, false);
    assert_eq!(t.next_deadline(), Some(INLINE_RUN_MS), "the alarm wakes when the creator's wait_until is surely over");
    assert_eq!(t.images[0].steps[0].lease.overdue(INLINE_RUN_MS), Some(Overdue::Silent));
    let expired = t.expire(&Tick { ms: INLINE_RUN_MS, ..slow.clone() });
    assert_eq!(expired.enqueue, vec![step(0, 0)], "the creator died: the job goes to the queue");
    assert_eq!(types(&expired), vec!["step.retrying"], "as a new attempt, so a late report of the lost run is ignored");
    let (claimed, _) = t.claim(step(0, 0), &Tick { ms: INLINE_RUN_MS + 1, ..slow });
    assert_eq!(claimed.map(|c| c.attempt), Some(2));
}

#[test]
fn a_handed_over_job_keeps_a_step_timeout_shorter_than_wait_until() {
    let (mut t, mut effects) = task(1);
    t.hand_over_first(&mut effects, &at(0), false);
    assert_eq!(t.next_deadline(), Some(TIMEOUT.min(INLINE_RUN_MS)));
}

#[test]
fn a_task_whose_images_all_reuse_results_hands_nothing_over() {
    let (mut t, mut effects) = Task::new(new_task(2, &[0, 1], false), &at(0));
    assert!(t.hand_over_first(&mut effects, &at(0), false).is_none());
}

#[test]
fn with_duplicate_faults_the_handed_over_job_is_also_queued_and_that_message_is_skipped() {
    let (mut t, mut effects) = task(1);
    assert!(t.hand_over_first(&mut effects, &at(0), true).is_some());
    assert_eq!(effects.enqueue, vec![step(0, 0)], "two runners race for it");
    assert!(t.claim(step(0, 0), &at(1)).0.is_none(), "the queued one finds it claimed");
}
