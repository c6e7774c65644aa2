//! The registry as documentation, generated so that it cannot drift from the code:
//! `docs/STEPS.md` (the catalogue as Markdown) and the OpenAPI components of a chain's step in
//! `public/openapi.json` (`StepOp`, `Step` and one `…Step` schema per step). The tests fail
//! when either file differs; `UPDATE_DOCS=1 cargo test -p functions docs` rewrites both.

use crate::format::INPUT_NOTES;
use crate::registry::{names, STEPS};
use serde_json::{json, Value};

/// The catalogue as Markdown (`docs/STEPS.md` is this text; a test keeps them equal).
pub fn markdown() -> String {
    let mut md = String::from("# Step catalogue\n\nGenerated from `functions/src/registry.rs` (`UPDATE_DOCS=1 cargo test -p functions docs` rewrites it); `GET /steps` serves the same.\n\n## Parameters: absent, or `null`\n\nLeaving an optional parameter out and giving it `null` mean the same: its default (or, without one, that it is not used). Clients generated from a schema often send `null` for a field left unset, so every optional parameter's schema admits `null` (`\"type\": [\"integer\", \"null\"]`, a `null` member of an `enum`, a `null` branch of a `oneOf`). A required parameter given `null` is missing (400 `invalid_chain`), and a rule across fields counts a `null` field as not given (`resize` with only `\"width\": null` has neither width nor height). The normalised chain leaves such fields out, so the two spellings share one stored result.\n\n## Input formats\n\n");
    for (format, notes) in INPUT_NOTES {
        md.push_str(&format!("- **{format}**: {notes}\n"));
    }
    for spec in STEPS {
        md.push_str(&format!("\n## `{}`\n\n{}\n\n| param | schema |\n|---|---|\n", spec.op, spec.description));
        let schema = (spec.params)();
        let empty = serde_json::Map::new();
        for (name, prop) in schema["properties"].as_object().unwrap_or(&empty) {
            md.push_str(&format!("| `{name}` | `{prop}` |\n"));
        }
    }
    md
}

/// The OpenAPI component name of `op`'s step: `auto_orient` → `AutoOrientStep`.
pub fn component_name(op: &str) -> String {
    let mut name: String = op
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    name.push_str("Step");
    name
}

/// The OpenAPI components of a chain's step, in document order: `StepOp` (every name), `Step`
/// (a `oneOf` discriminated by `op`, as a generated client types it) and one `…Step` per step
/// (the schema `GET /steps` serves, with `op` fixed to the step's name).
pub fn openapi_components() -> Vec<(String, Value)> {
    let step_op = json!({"type": "string", "enum": names(), "description": "A step name from `GET /steps`."});
    let reference = |op: &str| format!("#/components/schemas/{}", component_name(op));
    let step = json!({
        "description": "One step of a chain: `op` names it, the other fields are that step's parameters (the schemas `GET /steps` serves; docs/STEPS.md).",
        "oneOf": STEPS.iter().map(|s| json!({"$ref": reference(s.op)})).collect::<Vec<_>>(),
        "discriminator": {"propertyName": "op", "mapping": STEPS.iter().map(|s| (s.op.to_string(), json!(reference(s.op)))).collect::<serde_json::Map<_, _>>()},
        "examples": [{"op": "resize", "width": 1600}, {"op": "encode", "format": "webp", "quality": 80}],
    });
    let mut components = vec![("StepOp".to_string(), step_op), ("Step".to_string(), step)];
    for spec in STEPS {
        let mut schema = (spec.params)();
        schema["description"] = json!(spec.description);
        schema["properties"]["op"] = json!({"const": spec.op});
        let mut required = schema["required"].as_array().cloned().unwrap_or_default();
        required.insert(0, json!("op"));
        schema["required"] = Value::Array(required);
        components.push((component_name(spec.op), schema));
    }
    components
}

#[cfg(test)]
#[path = "docs_tests.rs"]
mod tests;
