//! A seeded property test of `POST /tasks` against its published contract: thousands of bodies
//! drawn around the request schema of `public/openapi.json` (ids, list bounds, steps, presets,
//! webhooks, unknown fields, wrong types), judged by the imaging core's independent JSON Schema
//! check, and given to [`TaskRequest::parse`], which must accept exactly the schema-valid ones
//! and refuse the rest with a status the document lists for the route.
//!
//! The document's `Step` defers each step's parameters to `GET /steps`; the test puts those
//! schemas (the registry's) in its place, so the whole body is judged. Webhook hosts are judged by
//! rules no schema keyword states (public hosts only, in the field's description): the test draws
//! public `https` URLs and judges their form and length only.

#[allow(dead_code)] // Shared with the imaging core's tests; not every helper is used here.
#[path = "../../functions/tests/support/schema_check.rs"]
mod schema_check;
#[allow(dead_code)]
#[path = "../../functions/tests/support/schema_gen.rs"]
mod schema_gen;

use super::TaskRequest;
use crate::config::Config;
use functions::registry::STEPS;
use schema_check::valid;
use schema_gen::{value, Rng};
use serde_json::{json, Map, Value};

const OPENAPI: &str = include_str!("../../public/openapi.json");
/// Bodies drawn.
const BODIES: usize = 4000;

/// `v` with every local `$ref` replaced by what it points to.
fn resolve(v: &Value, doc: &Value) -> Value {
    match v {
        Value::Object(m) => match m.get("$ref").and_then(Value::as_str) {
            Some(r) => resolve(doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling {r}")), doc),
            None => Value::Object(m.iter().map(|(k, x)| (k.clone(), resolve(x, doc))).collect()),
        },
        Value::Array(a) => Value::Array(a.iter().map(|x| resolve(x, doc)).collect()),
        other => other.clone(),
    }
}

/// A step as `GET /steps` defines it: one branch per op, its parameters and the op itself.
fn registry_step() -> Value {
    let branches: Vec<Value> = STEPS
        .iter()
        .map(|spec| {
            let mut s = (spec.params)();
            s["properties"]["op"] = json!({"const": spec.op});
            let mut required = s["required"].as_array().cloned().unwrap_or_default();
            required.push(json!("op"));
            s["required"] = Value::Array(required);
            s
        })
        .collect();
    json!({ "oneOf": branches })
}

/// The documented `Step` (wherever the request schema uses it) replaced by [`registry_step`].
fn with_exact_steps(v: &Value, documented: &Value, exact: &Value) -> Value {
    match v {
        _ if v == documented => exact.clone(),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), with_exact_steps(x, documented, exact))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(|x| with_exact_steps(x, documented, exact)).collect()),
        other => other.clone(),
    }
}

fn image_id(rng: &mut Rng) -> String {
    let hex: String = (0..32).map(|_| *rng.pick(&['0', '9', 'a', 'f', '3', 'c'])).collect();
    match rng.below(20) {
        0 => format!("img_{}", hex.to_uppercase()),
        1 => format!("img_{}", &hex[1..]),
        2 => format!("img_{hex}0"),
        3 => format!("task_{hex}"),
        _ => format!("img_{hex}"),
    }
}

/// One step: a registry op with parameters drawn from its schema (sometimes another op name).
fn step(rng: &mut Rng) -> Value {
    let spec = rng.pick(STEPS);
    let schema = (spec.params)();
    let empty = Map::new();
    let props = schema["properties"].as_object().unwrap_or(&empty);
    let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let mut obj = Map::new();
    for (name, p) in props {
        if rng.chance(if required.contains(&name.as_str()) { 0.95 } else { 0.3 }) {
            obj.insert(name.clone(), value(p, rng));
        }
    }
    let op = match rng.below(40) {
        0 => json!(spec.op.to_uppercase()),
        1 => json!(7),
        _ => json!(spec.op),
    };
    obj.insert("op".into(), op);
    Value::Object(obj)
}

fn list<T>(rng: &mut Rng, max: usize, mut item: impl FnMut(&mut Rng) -> T) -> Vec<T> {
    let n = match rng.below(10) {
        0 => 0,
        1 => max,
        2 => max + 1,
        _ => 1 + rng.below(3),
    };
    (0..n).map(|_| item(rng)).collect()
}

fn webhook(rng: &mut Rng) -> Value {
    let len = if rng.chance(0.5) { 2040 + rng.below(12) } else { 30 + rng.below(40) };
    let base = "https://hooks.example.com/";
    let path: String = (base.len()..len).map(|_| *rng.pick(&['a', '7', '/', '-', 'é'])).collect();
    match rng.below(10) {
        0 => Value::Null,
        1 => json!(["https://hooks.example.com/"]),
        _ => json!(format!("{base}{path}")),
    }
}

/// One request body, mostly near the schema.
fn body(rng: &mut Rng) -> Value {
    if rng.chance(0.02) {
        return rng.pick(&[json!([]), json!("x"), json!(3), json!(null)]).clone();
    }
    let mut obj = Map::new();
    if rng.chance(0.95) {
        let images = if rng.chance(0.95) { json!(list(rng, 100, image_id)) } else { json!("img_x") };
        obj.insert("images".into(), images);
    }
    let (steps, preset) = match rng.below(20) {
        0 => (true, true),
        1 => (false, false),
        2..=12 => (true, false),
        _ => (false, true),
    };
    if steps {
        let s = if rng.chance(0.97) { json!(list(rng, 32, step)) } else { json!({"op": "grayscale"}) };
        obj.insert("steps".into(), s);
    }
    if preset {
        let p = rng.pick(&[json!("web"), json!("thumbnail"), json!("avatar"), json!("Web"), json!("nope"), json!(null), json!(1)]).clone();
        obj.insert("preset".into(), p);
    }
    if rng.chance(0.3) {
        obj.insert("webhook".into(), webhook(rng));
    }
    if rng.chance(0.04) {
        obj.insert(rng.pick(&["step", "Images", "extra"]).to_string(), json!(1));
    }
    Value::Object(obj)
}

fn config() -> Config {
    let secret = "k".repeat(32);
    Config::parse(|n| matches!(n, "AUTH_SECRET" | "WEBHOOK_SECRET").then(|| secret.clone())).expect("config")
}

#[test]
fn the_task_parser_accepts_exactly_the_bodies_its_published_schema_accepts() {
    let doc: Value = serde_json::from_str(OPENAPI).expect("openapi.json parses");
    let post = &doc["paths"]["/tasks"]["post"];
    let documented = resolve(&post["requestBody"]["content"]["application/json"]["schema"], &doc);
    let documented_step = resolve(&doc["components"]["schemas"]["Step"], &doc);
    let exact_step = registry_step();
    let schema = with_exact_steps(&documented, &documented_step, &exact_step);
    let statuses: Vec<&String> = post["responses"].as_object().expect("responses").keys().collect();
    let (config, mut rng) = (config(), Rng::new(0x5eed_7a5c));
    let (mut failures, mut accepted) = (Vec::new(), 0);
    for _ in 0..BODIES {
        let b = body(&mut rng);
        let text = b.to_string();
        let expected = valid(&schema, &b);
        match (TaskRequest::parse(text.as_bytes(), &config), expected) {
            (Ok(_), true) => accepted += 1,
            (Err(e), false) if statuses.contains(&&e.status().to_string()) => {}
            (Err(e), false) => {
                failures.push(format!("{text:.300}: refused {} {}, a status the document does not list", e.status(), e.code()))
            }
            (Ok(_), false) => failures.push(format!("{text:.300}: schema-invalid but accepted")),
            (Err(e), true) => failures.push(format!("{text:.300}: schema-valid but refused: {e}")),
        }
        // The document's own `Step` must let through every step the registry accepts.
        for s in b["steps"].as_array().into_iter().flatten() {
            if valid(&exact_step, s) && !valid(&documented_step, s) {
                failures.push(format!("{s}: a valid step the document's Step refuses"));
            }
        }
    }
    let shown: Vec<&str> = failures.iter().take(5).map(String::as_str).collect();
    assert!(failures.is_empty(), "{} of {BODIES} disagreements, e.g.:\n{}", failures.len(), shown.join("\n"));
    assert!(accepted > BODIES / 10 && accepted < BODIES * 9 / 10, "{accepted} of {BODIES} valid: the generator is lopsided");
}
