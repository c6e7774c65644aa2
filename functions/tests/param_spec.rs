//! A seeded, deterministic property test of the step catalogue: for every step, thousands of
//! parameter objects are drawn from its published JSON Schema (values inside, on and just outside
//! each bound, mutated strings, wrong types, unknown and missing fields), judged by an
//! independent JSON Schema check, and given to the chain parser, which must accept exactly the
//! schema-valid ones — and name a field when it refuses.

#[path = "support/schema_check.rs"]
mod schema_check;
#[path = "support/schema_gen.rs"]
mod schema_gen;

use functions::registry::STEPS;
use functions::Chain;
use schema_check::valid;
use schema_gen::{value, Rng};
use serde_json::{json, Map, Value};

/// Parameter objects per step.
const PER_STEP: usize = 1000;

/// One random parameter object for a step whose schema is `schema`.
fn params(schema: &Value, rng: &mut Rng) -> Map<String, Value> {
    let empty = Map::new();
    let props = schema["properties"].as_object().unwrap_or(&empty);
    let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let mut obj = Map::new();
    for (name, p) in props {
        let keep = if required.contains(&name.as_str()) { 0.9 } else { 0.5 };
        if rng.chance(keep) {
            obj.insert(name.clone(), value(p, rng));
        }
    }
    if rng.chance(0.08) {
        // A misspelling of a real parameter, or a field no step has.
        let name = props.keys().next().map_or("bogus".to_string(), |k| format!("{k}s"));
        obj.insert(if rng.chance(0.5) { name } else { "Bogus".into() }, json!(1));
    }
    obj
}

#[test]
fn every_parser_accepts_exactly_its_schema_valid_parameters() {
    let mut rng = Rng::new(0x5eed_0018);
    let mut failures = Vec::new();
    let (mut accepted, mut total) = (0, 0);
    for spec in STEPS {
        let schema = (spec.params)();
        let mut seen = [0usize; 2];
        for _ in 0..PER_STEP {
            let obj = params(&schema, &mut rng);
            // Through text, as a request body arrives (`5.0` stays a float, and so on).
            let text = serde_json::to_string(&Value::Object(obj.clone())).expect("serialise");
            let obj: Value = serde_json::from_str(&text).expect("parse back");
            let expected = valid(&schema, &obj);
            let mut step = obj.clone();
            step["op"] = json!(spec.op);
            let got = Chain::parse(&json!([step]));
            seen[usize::from(expected)] += 1;
            match (&got, expected) {
                (Ok(_), true) => accepted += 1,
                (Err(e), false) => {
                    let named = obj.get(&e.field).is_some() || schema["properties"].get(&e.field).is_some();
                    if !named {
                        failures.push(format!("{}: {text} refused naming {:?}, not one of its fields", spec.op, e.field));
                    }
                }
                (Ok(_), false) => failures.push(format!("{}: {text} is schema-invalid but the parser accepts it", spec.op)),
                (Err(e), true) => failures.push(format!("{}: {text} is schema-valid but the parser refuses it: {e}", spec.op)),
            }
            total += 1;
        }
        // Steps without parameters only see invalid objects through unknown fields.
        assert!(seen[1] > 0, "{}: no schema-valid object was drawn", spec.op);
        assert!(seen[0] > 0, "{}: no schema-invalid object was drawn", spec.op);
    }
    // The first two of each step, so one wide disagreement does not hide the others.
    let mut shown: Vec<&String> = Vec::new();
    for f in &failures {
        let op = f.split(':').next().unwrap_or("");
        if shown.iter().filter(|s| s.starts_with(&format!("{op}:"))).count() < 2 {
            shown.push(f);
        }
    }
    let shown: Vec<&str> = shown.iter().map(|s| s.as_str()).collect();
    assert!(failures.is_empty(), "{} of {total} disagreements, e.g.:\n{}", failures.len(), shown.join("\n"));
    assert!(accepted > total / 5, "only {accepted} of {total} drawn objects were valid: the generator is too hostile");
}

#[test]
fn the_check_itself_tells_valid_from_invalid() {
    // The validator is what the parsers are judged by, so it gets its own known answers.
    let colour = json!({"type": "string", "pattern": "^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$"});
    assert!(valid(&colour, &json!("#A0b1c2")) && valid(&colour, &json!("#a0b1c2ff")));
    assert!(!valid(&colour, &json!("#+1+2+3")) && !valid(&colour, &json!("#a0b1c")) && !valid(&colour, &json!(7)));
    let int = json!({"type": "integer", "minimum": 1, "maximum": 10});
    assert!(valid(&int, &json!(1)) && valid(&int, &json!(10.0)) && !valid(&int, &json!(1.5)) && !valid(&int, &json!(11)));
    assert!(!valid(&int, &json!(null)) && !valid(&int, &json!("5")));
    let either = json!({"type": "object", "properties": {"a": {}, "b": {}}, "additionalProperties": false,
                        "anyOf": [{"required": ["a"]}, {"required": ["b"]}]});
    assert!(valid(&either, &json!({"a": 1})) && !valid(&either, &json!({})) && !valid(&either, &json!({"a": 1, "c": 2})));
    let line = json!({"type": "string", "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$", "maxLength": 3});
    assert!(
        valid(&line, &json!("é😀a")) && !valid(&line, &json!("a\nb")) && !valid(&line, &json!("\u{85}")) && !valid(&line, &json!("abcd"))
    );
    let auto = json!({"oneOf": [{"type": "number", "minimum": 0.5}, {"const": "auto"}]});
    assert!(valid(&auto, &json!("auto")) && valid(&auto, &json!(0.5)) && !valid(&auto, &json!(0.4)) && !valid(&auto, &json!("Auto")));
}
