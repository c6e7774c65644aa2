//! Unit tests of the task state machine.

use super::*;
use serde_json::json;

const NOW: &str = "2026-11-23T00:00:00.000Z";

fn task(images: usize) -> (Task, Effects) {
    let chain = Chain::parse(&json!([{"op":"resize","width":8},{"op":"grayscale"}])).expect("chain");
    let refs = (0..images)
        .map(|i| ImageRef {
            id: ImageId::parse(&format!("img_{i:032x}")).expect("id"),
            name: format!("{i}.png"),
            format: Format::Png,
        })
        .collect();
    Task::new(
        TaskId::parse("task_0123456789abcdef0123456789abcdef").expect("id"),
        TenantId::parse("alice").expect("tenant"),
        chain,
        refs,
        NOW,
    )
}

fn ok() -> Outcome {
    Outcome::Succeeded { content_type: "image/png".into(), width: 8, height: 8, bytes: 10, duration_ms: 3, memory_bytes: 1 }
}

fn types(e: &Effects) -> Vec<String> {
    e.events.iter().map(|ev| serde_json::to_value(ev).expect("json")["type"].as_str().expect("type").to_string()).collect()
}

#[test]
fn new_task_queues_first_step_of_every_image() {
    let (t, e) = task(3);
    assert_eq!(types(&e), ["task.queued"]);
    assert_eq!(e.enqueue.iter().map(|m| (m.image, m.step)).collect::<Vec<_>>(), [(0, 0), (1, 0), (2, 0)]);
    assert_eq!(t.progress(), Progress { done: 0, total: 6 });
}

#[test]
fn chain_runs_step_by_step_to_success() {
    let (mut t, _) = task(1);
    let (spec, e) = t.claim(0, 0, NOW);
    let spec = spec.expect("runs");
    assert_eq!(spec.input_key, "images/alice/img_00000000000000000000000000000000");
    assert!(!spec.is_last);
    assert_eq!(types(&e), ["step.started"]);
    let e = t.complete(0, 0, 1, ok(), NOW);
    assert_eq!(types(&e), ["step.succeeded"]);
    assert_eq!(e.enqueue, [StepMessage { task: t.id.clone(), image: 0, step: 1 }]);
    let (spec, _) = t.claim(0, 1, NOW);
    assert_eq!(spec.expect("runs").input_key, keys::step_output(&t.id, 0, 0));
    let e = t.complete(0, 1, 1, ok(), NOW);
    assert_eq!(types(&e), ["step.succeeded", "task.succeeded"]);
    assert_eq!(t.status, TaskStatus::Succeeded);
    assert_eq!(t.public_outputs().len(), 1);
}

#[test]
fn duplicate_delivery_after_success_is_skipped_silently() {
    let (mut t, _) = task(1);
    t.claim(0, 0, NOW);
    t.complete(0, 0, 1, ok(), NOW);
    let (spec, e) = t.claim(0, 0, NOW);
    assert!(spec.is_none() && e.events.is_empty());
    assert_eq!(t.complete(0, 0, 1, ok(), NOW), Effects::default(), "a second report changes nothing");
}

#[test]
fn a_step_cannot_run_before_its_predecessor() {
    let (mut t, _) = task(1);
    assert!(t.claim(0, 1, NOW).0.is_none());
    assert!(t.claim(5, 0, NOW).0.is_none(), "no such image");
}

#[test]
fn failure_fails_the_task_with_code_step_and_image() {
    let (mut t, _) = task(2);
    t.claim(0, 0, NOW);
    let e = t.complete(0, 0, 1, Outcome::Failed { code: "invalid_image".into(), message: "bad".into() }, NOW);
    assert_eq!(types(&e), ["step.failed", "task.failed"]);
    let err = t.error.clone().expect("error");
    assert_eq!((err.code.as_str(), err.step, err.image.as_str()), ("invalid_image", 0, "img_00000000000000000000000000000000"));
    assert!(t.claim(1, 0, NOW).0.is_none(), "other images stop once the task failed");
}

#[test]
fn task_succeeds_only_when_every_image_is_done() {
    let (mut t, _) = task(2);
    for step in 0..2 {
        t.claim(0, step, NOW);
        t.complete(0, step, 1, ok(), NOW);
    }
    assert_eq!(t.status, TaskStatus::Running);
    for step in 0..2 {
        t.claim(1, step, NOW);
        t.complete(1, step, 1, ok(), NOW);
    }
    assert_eq!(t.status, TaskStatus::Succeeded);
    let view = super::super::view::public_task(&t);
    assert_eq!(view["steps"][0]["status"], "succeeded");
    assert_eq!(view["progress"]["done"], 4);
}

#[test]
fn redelivery_is_a_new_attempt_and_the_stale_attempt_is_ignored() {
    let (mut t, _) = task(1);
    assert_eq!(t.claim(0, 0, NOW).0.expect("runs").attempt, 1);
    assert_eq!(t.claim(0, 0, NOW).0.expect("runs again").attempt, 2);
    assert_eq!(t.complete(0, 0, 1, ok(), NOW), Effects::default(), "attempt 1 is stale");
    assert_eq!(types(&t.complete(0, 0, 2, ok(), NOW)), ["step.succeeded"]);
}

#[test]
fn giving_up_fails_an_unfinished_step_once() {
    let (mut t, _) = task(1);
    t.claim(0, 0, NOW);
    assert_eq!(types(&t.give_up(0, 0, NOW)), ["step.failed", "task.failed"]);
    assert_eq!(t.error.as_ref().map(|e| e.code.as_str()), Some("internal"));
    assert_eq!(t.give_up(0, 0, NOW), Effects::default(), "already failed");
}
