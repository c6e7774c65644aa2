//! Unit tests of the task state machine: creation, claims, reports, retries, fan-in, the zip,
//! cancel, the watchdog and the webhook.

use super::*;
use crate::ids::{TaskId, TenantId};
use crate::keys;
use crate::task::lease::{self, Policy};
use functions::{Chain, Format};
use serde_json::json;

const TIMEOUT: u64 = 10_000;

fn at(ms: u64) -> Tick {
    Tick { ms, iso: format!("t{ms}"), policy: Policy { timeout_ms: TIMEOUT, queue_timeout_ms: TIMEOUT, max_retries: 2 }, jitter: 0.0 }
}

fn new_task(images: usize, cached: &[usize], webhook: bool) -> NewTask {
    let chain = Chain::parse(&json!([{"op":"resize","width":8},{"op":"grayscale"}])).expect("chain");
    let images = (0..images)
        .map(|i| NewImage {
            image: ImageRef {
                id: ImageId::parse(&format!("img_{i:032x}")).expect("id"),
                name: format!("{i}.png"),
                format: Format::Png,
                result_key: format!("r{i}"),
                peak_bytes: 0,
            },
            cached: cached.contains(&i).then(|| Output {
                key: format!("results/alice/r{i}"),
                content_type: "image/png".into(),
                width: 8,
                height: 8,
                bytes: 5,
                region: None,
            }),
        })
        .collect();
    NewTask {
        id: TaskId::parse("task_0123456789abcdef0123456789abcdef").expect("id"),
        tenant: TenantId::parse("alice").expect("tenant"),
        chain,
        images,
        webhook: webhook.then(|| "https://hooks.example/x".to_string()),
        fingerprint: None,
        inline: false,
    }
}

impl Task {
    /// A report that hands the next step to the queue (no checkpoint, no `proceed`).
    fn complete(&mut self, job: JobRef, attempt: u32, outcome: Outcome, tick: &Tick) -> (Effects, Option<u32>) {
        let (effects, answer) = self.report(Completion { job, attempt, outcome, checkpointed: false, proceed: false }, tick);
        (effects, answer.retry_in_s)
    }
}

fn task(images: usize) -> (Task, Effects) {
    Task::new(new_task(images, &[], false), &at(0))
}

fn ok() -> Outcome {
    Outcome::Succeeded { content_type: "image/png".into(), width: 8, height: 8, bytes: 10, duration_ms: 3, memory_bytes: 1, region: None }
}

fn step(image: usize, step: usize) -> JobRef {
    JobRef::Step { image, step }
}

fn types(e: &Effects) -> Vec<&'static str> {
    e.events.iter().map(Event::kind).collect()
}

/// Claims and completes one step successfully at `ms`; returns the completion's effects.
fn run(t: &mut Task, image: usize, s: usize, ms: u64) -> Effects {
    let (claimed, _) = t.claim(step(image, s), &at(ms));
    let attempt = claimed.expect("the step runs").attempt;
    t.complete(step(image, s), attempt, ok(), &at(ms)).0
}

#[test]
fn new_task_queues_the_first_step_of_every_image() {
    let (t, e) = task(3);
    assert_eq!(types(&e), ["task.queued"]);
    assert_eq!(e.enqueue, [step(0, 0), step(1, 0), step(2, 0)]);
    assert_eq!(t.progress(), Progress { done: 0, total: 6 });
    assert_eq!(t.next_deadline(), Some(TIMEOUT), "the watchdog waits for the first pick-up");
}

#[test]
fn a_chain_runs_step_by_step_and_its_last_step_writes_the_shared_result() {
    let (mut t, _) = task(1);
    let (claimed, e) = t.claim(step(0, 0), &at(1));
    let Some(Claimed { attempt: 1, work: Work::Step(spec) }) = claimed else { panic!("step 0 runs as attempt 1") };
    assert_eq!(spec.input_key, "images/alice/img_00000000000000000000000000000000");
    assert_eq!(types(&e), ["step.started"]);
    let (e, retry) = t.complete(step(0, 0), 1, ok(), &at(2));
    assert_eq!((types(&e), retry), (vec!["step.succeeded"], None));
    assert_eq!(e.enqueue, [step(0, 1)]);
    let Some(Claimed { work: Work::Step(spec), .. }) = t.claim(step(0, 1), &at(3)).0 else { panic!("step 1 runs") };
    assert_eq!(spec.output_key, "results/alice/r0");
    assert_eq!((spec.start, spec.resume_from), (1, 0), "no checkpoint of step 0: the job starts from the original");
    assert!(spec.cleanup.is_empty());
    let (e, _) = t.complete(step(0, 1), 1, ok(), &at(4));
    assert_eq!(types(&e), ["step.succeeded", "task.succeeded"]);
    assert_eq!((t.status, t.public_outputs().len(), t.next_deadline()), (TaskStatus::Succeeded, 1, None));
}

#[test]
fn duplicate_deliveries_never_run_or_announce_a_step_twice() {
    let (mut t, _) = task(1);
    assert!(t.claim(step(0, 0), &at(1)).0.is_some());
    let (again, e) = t.claim(step(0, 0), &at(2));
    assert!(again.is_none() && e.is_empty(), "a duplicate while the step runs is skipped");
    t.complete(step(0, 0), 1, ok(), &at(3));
    assert!(t.claim(step(0, 0), &at(4)).0.is_none(), "and after it succeeded");
    assert_eq!(t.complete(step(0, 0), 1, ok(), &at(5)).0, Effects::default(), "a second report changes nothing");
}

#[test]
fn a_step_cannot_run_before_its_predecessor_or_outside_the_task() {
    let (mut t, _) = task(1);
    assert!(t.claim(step(0, 1), &at(1)).0.is_none());
    assert!(t.claim(step(5, 0), &at(1)).0.is_none(), "no such image");
    assert!(t.claim(JobRef::Package, &at(1)).0.is_none(), "one image: no zip");
}

#[test]
fn a_permanent_failure_fails_the_task_with_code_step_and_image_and_stops_the_others() {
    let (mut t, _) = task(2);
    t.claim(step(0, 0), &at(1));
    let failed = Outcome::Failed { code: "invalid_image".into(), message: "bad".into() };
    let (e, retry) = t.complete(step(0, 0), 1, failed, &at(2));
    assert_eq!((types(&e), retry), (vec!["step.failed", "task.failed"], None));
    let err = t.error.clone().expect("error");
    assert_eq!(
        (err.code.as_str(), err.step, err.image.map(|i| i.to_string())),
        ("invalid_image", Some(0), Some(format!("img_{:032x}", 0)))
    );
    assert!(t.claim(step(1, 0), &at(3)).0.is_none(), "other images stop once the task failed");
}

#[test]
fn transient_failures_retry_with_backoff_then_give_up_after_the_budget() {
    let (mut t, _) = task(1);
    let transient = || Outcome::Transient { message: "R2 timed out".into() };
    for attempt in 1..=2 {
        assert_eq!(t.claim(step(0, 0), &at(10)).0.expect("runs").attempt, attempt);
        let (e, retry) = t.complete(step(0, 0), attempt, transient(), &at(20));
        assert_eq!(types(&e), ["step.retrying"]);
        let Event::StepRetrying { attempt: next, delay_ms, error, .. } = &e.events[0] else { unreachable!() };
        assert_eq!((*next, *delay_ms, retry), (attempt + 1, u64::from(retry.expect("retry")) * 1000, retry));
        assert_eq!(error.message, "R2 timed out");
    }
    t.claim(step(0, 0), &at(30));
    let (e, retry) = t.complete(step(0, 0), 3, transient(), &at(40));
    assert_eq!((types(&e), retry), (vec!["step.failed", "task.failed"], None));
    assert_eq!(t.error.as_ref().map(|e| e.code.as_str()), Some("unavailable"));
}

#[test]
fn several_images_fan_in_to_one_zip_before_the_task_succeeds() {
    let (mut t, _) = task(2);
    for s in 0..2 {
        run(&mut t, 0, s, 1);
    }
    assert_eq!(t.status, TaskStatus::Running);
    run(&mut t, 1, 0, 2);
    let e = run(&mut t, 1, 1, 3);
    assert_eq!((types(&e), e.enqueue.clone()), (vec!["step.succeeded"], vec![JobRef::Package]));
    assert_eq!(t.status, TaskStatus::Running, "running until the zip exists");
    let (claimed, _) = t.claim(JobRef::Package, &at(4));
    let Some(Claimed { attempt: 1, work: Work::Package(spec) }) = claimed else { panic!("the zip is built") };
    let names: Vec<_> = spec.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["0.png", "1.png"]);
    assert!(t.claim(JobRef::Package, &at(5)).0.is_none(), "one zip build at a time");
    let (e, _) = t.complete(JobRef::Package, 1, Outcome::Packaged { bytes: 99 }, &at(6));
    assert_eq!(types(&e), ["task.succeeded"]);
    assert_eq!(t.archive.as_ref().and_then(|a| a.output.as_ref()).map(|o| o.bytes), Some(99));
    assert_eq!(super::super::view::public_task(&t)["progress"]["done"], 4);
}

#[test]
fn cancel_waits_for_the_running_step_then_nothing_more_runs() {
    let (mut t, _) = task(1);
    t.claim(step(0, 0), &at(1));
    let e = t.cancel(&at(2)).expect("cancellable");
    assert!(e.is_empty() && t.status == TaskStatus::Running, "the running step ends first");
    let (e, _) = t.complete(step(0, 0), 1, ok(), &at(3));
    assert_eq!(types(&e), ["step.succeeded", "task.cancelled"]);
    assert!(e.enqueue.is_empty(), "no next step is sent");
    assert!(t.claim(step(0, 1), &at(4)).0.is_none());
    assert_eq!(t.cancel(&at(5)), Err(TaskStatus::Cancelled));
}

#[test]
fn cancel_with_nothing_running_ends_the_task_at_once() {
    let (mut t, _) = task(2);
    let e = t.cancel(&at(1)).expect("cancellable");
    assert_eq!(types(&e), ["task.cancelled"]);
    assert!(t.claim(step(0, 0), &at(2)).0.is_none(), "queued messages are skipped");
}

#[test]
fn reused_results_are_announced_as_cached_and_nothing_runs() {
    let (t, e) = Task::new(new_task(1, &[0], false), &at(0));
    assert_eq!(types(&e), ["task.queued", "step.succeeded", "step.succeeded", "task.succeeded"]);
    assert!(e.enqueue.is_empty());
    let v = serde_json::to_value(&e.events[1]).expect("json");
    assert_eq!(v["cached"], true);
    assert_eq!(t.public_outputs()[0].bytes, 5);
    let (_, e) = Task::new(new_task(2, &[1], false), &at(0));
    assert_eq!(e.enqueue, [step(0, 0)], "only the image without a result runs");
}

#[test]
fn the_webhook_goes_once_the_task_ended_and_retries_until_delivered() {
    let (mut t, _) = Task::new(new_task(1, &[], true), &at(0));
    assert!(t.claim(JobRef::Webhook, &at(1)).0.is_none(), "not before the end");
    run(&mut t, 0, 0, 2);
    let e = run(&mut t, 0, 1, 3);
    assert_eq!(e.enqueue, [JobRef::Webhook]);
    let Some(Claimed { attempt: 1, work: Work::Webhook(hook) }) = t.claim(JobRef::Webhook, &at(4)).0 else { panic!("webhook runs") };
    assert_eq!(hook.event, "task.succeeded");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&hook.body).expect("json")["status"], "succeeded");
    let (_, retry) = t.complete(JobRef::Webhook, 1, Outcome::Transient { message: "503".into() }, &at(5));
    assert!(retry.is_some());
    t.claim(JobRef::Webhook, &at(6));
    t.complete(JobRef::Webhook, 2, Outcome::Delivered, &at(7));
    assert!(t.claim(JobRef::Webhook, &at(8)).0.is_none() && t.next_deadline().is_none(), "delivered once");
}

#[test]
fn a_dead_letter_fails_an_unfinished_step_once() {
    let (mut t, _) = task(1);
    t.claim(step(0, 0), &at(1));
    assert_eq!(types(&t.give_up(step(0, 0), &at(2))), ["step.failed", "task.failed"]);
    assert_eq!(t.error.as_ref().map(|e| e.code.as_str()), Some("internal"));
    assert!(t.give_up(step(0, 0), &at(3)).is_empty(), "already failed");
}

/// Fused jobs: a report that claims the next step in place.
#[path = "state_fused_tests.rs"]
mod fused;

/// Held reports: a step's report sent with the next step's.
#[path = "state_held_tests.rs"]
mod held;

/// Boxes kept by content-aware steps.
#[path = "state_box_tests.rs"]
mod boxes;

/// The first job handed to the creating request.
#[path = "state_inline_tests.rs"]
mod inline;

#[path = "watchdog_tests.rs"]
mod watchdog_tests;
