//! Comparing a disturbed run with an undisturbed twin: a task's events reduced to what must not
//! depend on timing (per image, ids and clocks left out), and its outputs as (name, bytes).

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Cursor, Read};

/// Fields that differ between two correct runs of the same chain: where in the log, which
/// task, when, how long, and the isolate's memory high-water mark (it depends on what else ran).
const VOLATILE: [&str; 5] = ["seq", "task", "at", "duration_ms", "memory_bytes"];

/// A task's events grouped into streams that a correct run fixes completely: `"task"` (the
/// `task.*` events, in order) and one per image (its `step.*` events in order, keyed by the
/// image's index in `images`). Volatile fields are dropped, image ids become their index, and
/// a step event's task-wide `progress` is dropped too: images run concurrently, so how far the
/// others were is timing.
pub fn event_streams(events: &[Value], images: &[String]) -> BTreeMap<String, Vec<Value>> {
    let index = |id: &Value| images.iter().position(|i| id == i.as_str()).map_or_else(|| format!("unknown {id}"), |n| format!("image {n}"));
    let mut streams: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for event in events {
        let mut event = event.clone();
        let fields = event.as_object_mut().expect("an event is a JSON object");
        for key in VOLATILE {
            fields.remove(key);
        }
        let stream = if fields["type"].as_str().is_some_and(|t| t.starts_with("step.")) {
            fields.remove("progress");
            let image = index(&fields["image"]);
            fields.insert("image".into(), Value::String(image.clone()));
            image
        } else {
            for output in fields.get_mut("outputs").and_then(Value::as_array_mut).into_iter().flatten() {
                output["image"] = Value::String(index(&output["image"]));
            }
            "task".to_string()
        };
        streams.entry(stream).or_default().push(event);
    }
    streams
}

/// The entries of a zip download, in archive order.
pub fn zip_entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("the download is a valid zip");
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).expect("zip entry");
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("read a zip entry");
            (entry.name().to_string(), data)
        })
        .collect()
}
