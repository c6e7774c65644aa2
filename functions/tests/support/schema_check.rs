//! A JSON Schema (draft 2020-12) validator for the subset the step catalogue uses, written from
//! the specification and independent of the parsers it is used to check. A keyword it does not
//! know fails the test instead of being ignored, so a schema cannot outgrow the check silently.

use regex::Regex;
use serde_json::{Map, Value};

/// Keywords that only annotate (they never make a value invalid). `format` is one too in draft
/// 2020-12 unless a schema opts into the format-assertion vocabulary, which ours do not.
const ANNOTATIONS: [&str; 6] = ["default", "examples", "description", "title", "format", "discriminator"];

/// Whether `v` is valid against `schema`.
pub fn valid(schema: &Value, v: &Value) -> bool {
    let s = match schema {
        Value::Bool(b) => return *b,
        Value::Object(s) => s,
        other => panic!("a schema must be an object or a boolean, got {other}"),
    };
    s.iter().all(|(k, arg)| keyword(s, k, arg, v))
}

fn keyword(s: &Map<String, Value>, k: &str, arg: &Value, v: &Value) -> bool {
    let num = |x: &Value| x.as_f64().unwrap_or_else(|| panic!("{k} needs a number, got {x}"));
    let n = v.as_f64();
    match k {
        _ if ANNOTATIONS.contains(&k) => true,
        "type" => match arg {
            Value::String(t) => has_type(t, v),
            Value::Array(ts) => ts.iter().any(|t| has_type(t.as_str().unwrap_or(""), v)),
            other => panic!("type must be a string or a list, got {other}"),
        },
        // Numeric keywords apply to numbers only, string ones to strings only, and so on.
        "minimum" => n.is_none_or(|n| n >= num(arg)),
        "maximum" => n.is_none_or(|n| n <= num(arg)),
        "exclusiveMinimum" => n.is_none_or(|n| n > num(arg)),
        "exclusiveMaximum" => n.is_none_or(|n| n < num(arg)),
        "minLength" => v.as_str().is_none_or(|t| t.chars().count() as f64 >= num(arg)),
        "maxLength" => v.as_str().is_none_or(|t| t.chars().count() as f64 <= num(arg)),
        "pattern" => {
            let re = Regex::new(arg.as_str().expect("pattern is a string")).expect("pattern compiles");
            v.as_str().is_none_or(|t| re.is_match(t))
        }
        "minItems" => v.as_array().is_none_or(|a| a.len() as f64 >= num(arg)),
        "maxItems" => v.as_array().is_none_or(|a| a.len() as f64 <= num(arg)),
        "prefixItems" => v.as_array().is_none_or(|a| a.iter().zip(list(arg)).all(|(x, sub)| valid(sub, x))),
        // `items` applies to the elements after those `prefixItems` covers.
        "items" => v.as_array().is_none_or(|a| {
            let skip = s.get("prefixItems").map_or(0, |p| list(p).len());
            a.iter().skip(skip).all(|x| valid(arg, x))
        }),
        "enum" => arg.as_array().expect("enum is a list").iter().any(|e| same(e, v)),
        "const" => same(arg, v),
        "allOf" => list(arg).iter().all(|sub| valid(sub, v)),
        "anyOf" => list(arg).iter().any(|sub| valid(sub, v)),
        "oneOf" => list(arg).iter().filter(|sub| valid(sub, v)).count() == 1,
        "not" => !valid(arg, v),
        "required" => v.as_object().is_none_or(|o| list(arg).iter().all(|r| o.contains_key(r.as_str().expect("required names a field")))),
        "properties" => v.as_object().is_none_or(|o| {
            let props = arg.as_object().expect("properties is an object");
            o.iter().all(|(name, x)| props.get(name).is_none_or(|p| valid(p, x)))
        }),
        "additionalProperties" => v.as_object().is_none_or(|o| {
            let known = s.get("properties").and_then(Value::as_object);
            o.iter().filter(|(name, _)| known.is_none_or(|p| !p.contains_key(*name))).all(|(_, x)| valid(arg, x))
        }),
        other => panic!("the check does not know the keyword {other:?}; teach it before using it in a schema"),
    }
}

fn list(arg: &Value) -> &Vec<Value> {
    arg.as_array().unwrap_or_else(|| panic!("expected a list, got {arg}"))
}

/// JSON Schema's types; an integer is any number with a zero fraction (`5.0` is one).
fn has_type(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|x| x.fract() == 0.0),
        other => panic!("unknown type {other:?}"),
    }
}

/// JSON equality: numbers by value (`1` equals `1.0`), the rest structurally.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| same(p, q))),
        _ => a == b,
    }
}
