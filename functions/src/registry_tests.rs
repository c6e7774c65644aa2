//! Consistency of the registry: names, schemas and parsers agree.

use super::*;
use crate::Chain;

#[test]
fn names_are_unique_snake_case() {
    let names = names();
    for (i, n) in names.iter().enumerate() {
        assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{n}");
        assert!(!names[i + 1..].contains(n), "duplicate {n}");
    }
}

#[test]
fn catalogue_lists_every_step_with_an_object_schema() {
    let cat = catalogue();
    let steps = cat["steps"].as_array().expect("steps array");
    assert_eq!(steps.len(), STEPS.len());
    for s in steps {
        assert_eq!(s["params"]["type"], "object", "{}", s["op"]);
        assert_eq!(s["params"]["additionalProperties"], false, "{}", s["op"]);
    }
}

/// A step built from each property's example (or default), for every step in the catalogue.
fn example_step(spec: &StepSpec) -> Value {
    let schema = (spec.params)();
    let mut step = json!({ "op": spec.op });
    let empty = serde_json::Map::new();
    for (name, prop) in schema["properties"].as_object().unwrap_or(&empty) {
        let value = prop["examples"].get(0).or_else(|| prop.get("default")).cloned();
        if let Some(v) = value {
            step[name] = v;
        }
    }
    step
}

#[test]
fn every_step_parses_its_own_schema_examples() {
    for spec in STEPS {
        let step = example_step(spec);
        let chain = Chain::parse(&json!([step])).unwrap_or_else(|e| panic!("{}: {e}", spec.op));
        assert_eq!(chain.steps()[0].op(), spec.op);
    }
}

#[test]
fn null_for_an_optional_parameter_means_its_default() {
    let with_null = Chain::parse(&serde_json::json!([{"op": "resize", "width": 100, "height": null, "filter": null}])).expect("valid");
    let without = Chain::parse(&serde_json::json!([{"op": "resize", "width": 100}])).expect("valid");
    assert_eq!(with_null, without, "the same normalised chain, so the same stored result");
    let neither = Chain::parse(&serde_json::json!([{"op": "resize", "width": null}])).expect_err("no size");
    assert_eq!(neither.field, "width");
    let text = Chain::parse(&serde_json::json!([{"op": "text", "text": null}])).expect_err("required");
    assert!(text.field == "text" && text.message.starts_with("is required"), "{text:?}");
}

#[test]
fn every_step_rejects_an_unknown_parameter_by_name() {
    for spec in STEPS {
        let mut step = example_step(spec);
        step["bogus_field"] = json!(1);
        let err = Chain::parse(&json!([step])).expect_err(spec.op);
        assert_eq!(err.field, "bogus_field", "{}", spec.op);
    }
}
