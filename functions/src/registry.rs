//! The one registry of step names: the API validates against it, queue messages and events carry
//! its names, `GET /steps` and the docs list it.
//!
//! Adding a step means adding a name constant, a [`StepSpec`] here and a variant in
//! [`crate::chain::Step`]; the tests below fail if the two disagree.

use serde_json::{json, Value};

pub const RESIZE: &str = "resize";
pub const GRAYSCALE: &str = "grayscale";
pub const ENCODE: &str = "encode";

/// One catalogue entry: the op name, what it does, and the JSON Schema of its parameters.
pub struct StepSpec {
    pub op: &'static str,
    pub description: &'static str,
    /// JSON Schema (draft 2020-12) of the step object, `op` excluded.
    pub params: fn() -> Value,
}

/// Every step, in catalogue order.
pub static STEPS: &[StepSpec] = &[
    StepSpec {
        op: RESIZE,
        description: "Scale the image. Give width, height or both; `fit` says how both are honoured.",
        params: resize_schema,
    },
    StepSpec {
        op: GRAYSCALE,
        description: "Convert to grayscale (Rec. 601 luma); alpha is kept.",
        params: || json!({"type": "object", "properties": {}, "additionalProperties": false}),
    },
    StepSpec {
        op: ENCODE,
        description: "Encode the pixels (png or jpeg). Metadata is never copied to the output.",
        params: encode_schema,
    },
];

/// Looks a step up by name.
pub fn find(op: &str) -> Option<&'static StepSpec> {
    STEPS.iter().find(|s| s.op == op)
}

/// Every name, for error messages ("expected one of …").
pub fn names() -> Vec<&'static str> {
    STEPS.iter().map(|s| s.op).collect()
}

/// The catalogue as served by `GET /steps`.
pub fn catalogue() -> Value {
    let steps: Vec<Value> = STEPS
        .iter()
        .map(|s| json!({"op": s.op, "description": s.description, "params": (s.params)()}))
        .collect();
    json!({ "steps": steps })
}

/// Largest width or height a step may produce (the same order as common image libraries).
pub const MAX_DIMENSION: u32 = 16_384;

fn resize_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "width": {"type": "integer", "minimum": 1, "maximum": MAX_DIMENSION, "examples": [1600]},
            "height": {"type": "integer", "minimum": 1, "maximum": MAX_DIMENSION, "examples": [1200]},
            "fit": {"enum": ["inside", "contain", "cover", "fill"], "default": "inside",
                    "description": "inside: keep aspect, fit within; contain: inside then pad to the box; cover: fill the box, crop the overflow (centred); fill: stretch"},
            "filter": {"enum": ["nearest", "bilinear", "catmull_rom", "lanczos3"], "default": "lanczos3"},
            "background": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$", "default": "#00000000",
                           "description": "padding colour for fit=contain"}
        },
        "anyOf": [{"required": ["width"]}, {"required": ["height"]}],
        "additionalProperties": false
    })
}

fn encode_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "format": {"enum": ["png", "jpeg"], "examples": ["jpeg"]},
            "quality": {"type": "integer", "minimum": 1, "maximum": 100, "default": 85,
                        "description": "JPEG quality; ignored by png"}
        },
        "required": ["format"],
        "additionalProperties": false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        }
    }
}
