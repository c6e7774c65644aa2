//! The box a content-aware step (`trim`, `smart_crop`) kept: in its `step.succeeded` event, and
//! in the task's outputs even when a later step of the chain reported none.

use super::*;
use functions::ops::region::Region;

#[test]
fn a_reported_box_is_in_the_step_event_and_the_task_outputs() {
    let (mut t, _) = task(1);
    let kept = Region { x: 3, y: 4, width: 20, height: 10 };
    let attempt = t.claim(step(0, 0), &at(1)).0.expect("step 0 runs").attempt;
    let boxed = match ok() {
        Outcome::Succeeded { content_type, width, height, bytes, duration_ms, memory_bytes, .. } => {
            Outcome::Succeeded { content_type, width, height, bytes, duration_ms, memory_bytes, region: Some(kept) }
        }
        other => other,
    };
    let (e, _) = t.complete(step(0, 0), attempt, boxed, &at(2));
    let Some(Event::StepSucceeded { region, .. }) = e.events.first() else { panic!("step.succeeded first: {:?}", types(&e)) };
    assert_eq!(*region, Some(kept));
    let json = serde_json::to_value(&e.events[0]).expect("json");
    assert_eq!(json["box"], json!({"x": 3, "y": 4, "width": 20, "height": 10}), "the contract's field name");
    // Step 1 (grayscale) reports no box; the output still carries step 0's.
    let e = run(&mut t, 0, 1, 3);
    assert_eq!(types(&e), ["step.succeeded", "task.succeeded"]);
    assert_eq!(t.public_outputs()[0].region, Some(kept));
    let Some(Event::TaskSucceeded { outputs, .. }) = e.events.last() else { panic!("task.succeeded last") };
    assert_eq!(outputs[0].region, Some(kept));
}

#[test]
fn steps_without_a_box_leave_it_out_of_the_json() {
    let (mut t, _) = task(1);
    let e = run(&mut t, 0, 0, 1);
    let json = serde_json::to_value(&e.events[0]).expect("json");
    assert!(json.get("box").is_none(), "{json}");
    run(&mut t, 0, 1, 2);
    assert!(serde_json::to_value(&t.public_outputs()[0]).expect("json").get("box").is_none());
}
