//! A task's chain of steps: parsed once from the request's JSON into typed [`Step`]s, with errors
//! that name the step index and the field.

use crate::params::{FieldError, Fields};
use crate::registry::{self, Step};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Most steps one chain may have.
pub const MAX_STEPS: usize = 32;

fn parse_step(value: &Value) -> Result<Step, FieldError> {
    let map = value.as_object().ok_or_else(|| FieldError::new("op", "each step must be an object with an \"op\""))?;
    let op = map.get("op").and_then(Value::as_str).ok_or_else(|| FieldError::new("op", "is required and must be a string"))?;
    let mut fields = Fields::new(map);
    let step = Step::parse_named(op, &mut fields)
        .unwrap_or_else(|| Err(FieldError::new("op", format!("unknown op {op:?}; expected one of {}", registry::names().join(", ")))))?;
    fields.finish()?;
    Ok(step)
}

/// Why a chain was refused: `step` is `None` when the list itself is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainError {
    pub step: Option<usize>,
    pub field: String,
    pub message: String,
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.step {
            Some(i) => write!(f, "steps[{i}].{}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// A non-empty list of at most [`MAX_STEPS`] validated steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Chain(Vec<Step>);

impl Chain {
    /// Validates the `steps` value of a task request.
    pub fn parse(value: &Value) -> Result<Chain, ChainError> {
        let list_error = |message: String| ChainError { step: None, field: "steps".into(), message };
        let items = value.as_array().ok_or_else(|| list_error("must be an array of steps".into()))?;
        if items.is_empty() || items.len() > MAX_STEPS {
            return Err(list_error(format!("must hold 1 to {MAX_STEPS} steps, got {}", items.len())));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, v)| parse_step(v).map_err(|e| ChainError { step: Some(i), field: e.field, message: e.message }))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|steps| {
                // auto_orient decides how the original is decoded, so only the first step may be it.
                match steps.iter().skip(1).position(|s| matches!(s, Step::AutoOrient(_))) {
                    Some(i) => {
                        Err(ChainError { step: Some(i + 1), field: "op".into(), message: "auto_orient must be the first step".into() })
                    }
                    None => agreeing_on_icc(steps).map(Chain),
                }
            })
    }

    pub fn steps(&self) -> &[Step] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `steps` if their encodes agree on `icc`: whether the pixels stay in the source's colour
/// space is decided once, at decode, for the whole chain ([`crate::icc`]).
fn agreeing_on_icc(steps: Vec<Step>) -> Result<Vec<Step>, ChainError> {
    let mut policies = steps.iter().enumerate().filter_map(|(i, s)| match s {
        Step::Encode(p) => Some((i, p.icc)),
        _ => None,
    });
    let Some((_, first)) = policies.next() else { return Ok(steps) };
    match policies.find(|(_, icc)| *icc != first) {
        Some((i, _)) => Err(ChainError {
            step: Some(i),
            field: "icc".into(),
            message: "every encode of a chain must have the same icc (the pixels are converted to sRGB on decode, or not, once for the whole chain)".into(),
        }),
        None => Ok(steps),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn valid_chain_parses_into_typed_steps() {
        let chain = Chain::parse(&json!([
            {"op": "resize", "width": 64},
            {"op": "grayscale"},
            {"op": "encode", "format": "png"}
        ]))
        .expect("valid");
        let ops: Vec<_> = chain.steps().iter().map(Step::op).collect();
        assert_eq!(ops, ["resize", "grayscale", "encode"]);
    }

    #[test]
    fn unknown_op_names_its_index_and_field() {
        let err = Chain::parse(&json!([{"op": "resize", "width": 5}, {"op": "explode"}])).unwrap_err();
        assert_eq!((err.step, err.field.as_str()), (Some(1), "op"));
        assert!(err.to_string().contains("steps[1].op"), "{err}");
    }

    #[test]
    fn out_of_range_parameter_names_the_field() {
        let err = Chain::parse(&json!([{"op": "resize", "width": 0}])).unwrap_err();
        assert_eq!((err.step, err.field.as_str()), (Some(0), "width"));
        let err = Chain::parse(&json!([{"op": "encode", "format": "png", "quality": 101}])).unwrap_err();
        assert_eq!(err.field, "quality");
    }

    #[test]
    fn misspelt_parameter_is_rejected_not_ignored() {
        let err = Chain::parse(&json!([{"op": "resize", "widht": 5, "height": 5}])).unwrap_err();
        assert_eq!(err.field, "widht");
    }

    #[test]
    fn encodes_that_disagree_on_the_colour_profile_are_refused_at_the_second() {
        let mixed =
            json!([{"op": "encode", "format": "png", "icc": "keep"}, {"op": "resize", "width": 8}, {"op": "encode", "format": "jpeg"}]);
        let err = Chain::parse(&mixed).unwrap_err();
        assert_eq!((err.step, err.field.as_str()), (Some(2), "icc"));
        let agreeing = json!([{"op": "encode", "format": "png", "icc": "keep"}, {"op": "encode", "format": "jpeg", "icc": "keep"}]);
        assert!(Chain::parse(&agreeing).is_ok());
    }

    #[test]
    fn empty_and_overlong_chains_are_refused() {
        assert_eq!(Chain::parse(&json!([])).unwrap_err().step, None);
        let many: Vec<_> = (0..=MAX_STEPS).map(|_| json!({"op": "grayscale"})).collect();
        assert!(Chain::parse(&Value::Array(many)).is_err());
    }

    #[test]
    fn normalised_form_round_trips_through_serde() {
        let chain = Chain::parse(&json!([{"op": "resize", "height": 9, "fit": "cover"}, {"op": "grayscale"}])).expect("valid");
        let stored = serde_json::to_value(&chain).expect("serialise");
        let back: Chain = serde_json::from_value(stored).expect("deserialise");
        assert_eq!(back, chain);
    }
}
