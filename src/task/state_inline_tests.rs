//! The state machine with the first job handed to the creating request
//! ([`crate::task::inline`]): the queue gets the rest, the watchdog covers a creator that died.

use super::*;
use crate::task::inline::INLINE_CLAIM_MS;
use crate::task::lease::Overdue;

#[test]
fn the_first_image_is_handed_over_and_the_others_still_go_to_the_queue() {
    let (mut t, mut effects) = task(3);
    assert_eq!(t.hand_over_first(&mut effects, &at(0), false), Some(step(0, 0)));
    assert_eq!(effects.enqueue, vec![step(1, 0), step(2, 0)]);
    assert_eq!(types(&effects), vec!["task.queued"], "the same events as a queued task");
}

#[test]
fn a_handed_over_job_is_claimed_like_a_delivered_one_and_only_once() {
    let (mut t, mut effects) = task(1);
    t.hand_over_first(&mut effects, &at(0), false);
    let (first, _) = t.claim(step(0, 0), &at(5));
    assert_eq!(first.map(|c| c.attempt), Some(1));
    assert!(t.claim(step(0, 0), &at(6)).0.is_none(), "a queue message for it (the watchdog's, a duplicate) is skipped");
}

#[test]
fn a_handed_over_job_never_claimed_is_sent_to_the_queue_by_the_watchdog() {
    // A queue timeout far longer than the hand-over's: the alarm must wake for the latter.
    let slow_queue = Tick { policy: Policy { queue_timeout_ms: 600_000, ..at(0).policy }, ..at(0) };
    let (mut t, mut effects) = Task::new(new_task(1, &[], false), &slow_queue);
    t.hand_over_first(&mut effects, &slow_queue, false);
    assert_eq!(t.next_deadline(), Some(INLINE_CLAIM_MS), "the alarm wakes for the hand-over, not the queue timeout");
    assert_eq!(t.images[0].steps[0].lease.overdue(INLINE_CLAIM_MS), Some(Overdue::Unclaimed));
    let expired = t.expire(&at(INLINE_CLAIM_MS));
    assert_eq!(expired.enqueue, vec![step(0, 0)], "the creator died before claiming: the job goes to the queue");
    assert!(expired.events.is_empty(), "a re-sent job is not a retry: {:?}", types(&expired));
}

#[test]
fn a_task_whose_images_all_reuse_results_hands_nothing_over() {
    let (mut t, mut effects) = Task::new(new_task(2, &[0, 1], false), &at(0));
    assert_eq!(t.hand_over_first(&mut effects, &at(0), false), None);
}

#[test]
fn with_duplicate_faults_the_handed_over_job_is_also_queued() {
    let (mut t, mut effects) = task(1);
    assert_eq!(t.hand_over_first(&mut effects, &at(0), true), Some(step(0, 0)));
    assert_eq!(effects.enqueue, vec![step(0, 0)], "two runners race for it");
}
