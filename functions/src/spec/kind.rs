//! The kinds of value a parameter takes: how a JSON value is checked against one (the parser's
//! side) and the JSON Schema that says the same (the catalogue's side), written next to each other.

use crate::params::FieldError;
use serde_json::{json, Value};

/// The JSON Schema pattern of a colour parameter.
pub const COLOUR_PATTERN: &str = "^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$";

/// The JSON Schema pattern of a one-line text: no control characters (Unicode category Cc,
/// which is what `char::is_control` tests).
pub const ONE_LINE_PATTERN: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// The JSON Schema pattern of an uploaded image's id.
pub const IMAGE_ID_PATTERN: &str = "^img_[0-9a-f]{32}$";

/// What values a parameter takes.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// An integer in `min..=max` (a number with no fraction, as JSON Schema counts `5.0`).
    Integer {
        min: i64,
        max: i64,
    },
    /// A number in `min..=max`; with `above_min`, `min` itself is excluded.
    Number {
        min: f64,
        max: f64,
        above_min: bool,
    },
    Boolean,
    /// `#rrggbb` or `#rrggbbaa`.
    Colour,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// One line of 1 to `max_chars` characters.
    Text {
        max_chars: usize,
    },
    /// An uploaded image's id: `img_` and 32 lowercase hex digits.
    ImageId,
    /// A number in `min..=max`, or the string `word` (e.g. "auto").
    NumberOr {
        min: f64,
        max: f64,
        word: &'static str,
    },
}

/// A value checked against its [`Kind`], before it becomes the parameter's type.
pub enum Checked<'a> {
    Int(i64),
    Num(f64),
    Bool(bool),
    Colour([u8; 4]),
    /// One of a choice's own strings.
    Choice(&'static str),
    Str(&'a str),
    Word,
}

impl Kind {
    /// Checks `v` (the value of field `name`) against this kind; the error says what was expected.
    pub fn check<'a>(&self, name: &str, v: &'a Value) -> Result<Checked<'a>, FieldError> {
        let fail = |what: String| FieldError::new(name, what);
        match *self {
            Kind::Integer { min, max } => integral(v)
                .filter(|n| (i128::from(min)..=i128::from(max)).contains(n))
                .and_then(|n| i64::try_from(n).ok())
                .map(Checked::Int)
                .ok_or_else(|| fail(format!("must be an integer from {min} to {max}, got {v}"))),
            Kind::Number { min, max, above_min } => match v.as_f64() {
                Some(n) if (n > min || (n == min && !above_min)) && n <= max => Ok(Checked::Num(n)),
                _ if above_min => Err(fail(format!("must be a number greater than {min} and at most {max}, got {v}"))),
                _ => Err(fail(format!("must be a number from {min} to {max}, got {v}"))),
            },
            Kind::Boolean => v.as_bool().map(Checked::Bool).ok_or_else(|| fail(format!("must be true or false, got {v}"))),
            Kind::Colour => {
                let bad = || fail(format!("must be a colour like #rrggbb or #rrggbbaa, got {v}"));
                v.as_str().and_then(parse_colour).map(Checked::Colour).ok_or_else(bad)
            }
            Kind::Choice(choices) => v
                .as_str()
                .and_then(|s| choices.iter().copied().find(|c| *c == s))
                .map(Checked::Choice)
                .ok_or_else(|| fail(format!("must be one of {}, got {v}", choices.join(", ")))),
            Kind::Text { max_chars } => {
                let s = v.as_str().ok_or_else(|| fail(format!("must be a string, got {v}")))?;
                let n = s.chars().count();
                if n == 0 || n > max_chars {
                    return Err(fail(format!("must be 1 to {max_chars} characters, got {n}")));
                }
                if s.chars().any(char::is_control) {
                    return Err(fail("must be one line without control characters".into()));
                }
                Ok(Checked::Str(s))
            }
            Kind::ImageId => v
                .as_str()
                .filter(|s| crate::ops::compose::is_image_id(s))
                .map(Checked::Str)
                .ok_or_else(|| fail(format!("must be an image id (img_ and 32 lowercase hex digits), got {v}"))),
            Kind::NumberOr { min, max, word } => match v.as_f64() {
                Some(n) if n >= min && n <= max => Ok(Checked::Num(n)),
                None if v.as_str() == Some(word) => Ok(Checked::Word),
                _ => Err(fail(format!("must be a number from {min} to {max}, or {word:?}, got {v}"))),
            },
        }
    }

    /// The JSON Schema of a value of this kind, without annotations.
    pub(super) fn schema(&self) -> Value {
        match *self {
            Kind::Integer { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
            Kind::Number { min, max, above_min: false } => json!({"type": "number", "minimum": num(min), "maximum": num(max)}),
            Kind::Number { min, max, above_min: true } => {
                json!({"type": "number", "exclusiveMinimum": num(min), "maximum": num(max)})
            }
            Kind::Boolean => json!({"type": "boolean"}),
            Kind::Colour => json!({"type": "string", "pattern": COLOUR_PATTERN}),
            Kind::Choice(choices) => json!({ "enum": choices }),
            Kind::Text { max_chars } => {
                json!({"type": "string", "minLength": 1, "maxLength": max_chars, "pattern": ONE_LINE_PATTERN})
            }
            Kind::ImageId => json!({"type": "string", "pattern": IMAGE_ID_PATTERN}),
            Kind::NumberOr { min, max, word } => {
                json!({"oneOf": [{"type": "number", "minimum": num(min), "maximum": num(max)}, {"const": word}]})
            }
        }
    }

    /// Why a required field of this kind is needed, to follow "is required".
    pub(super) fn hint(&self) -> Option<String> {
        match self {
            Kind::Choice(choices) => match choices.split_last() {
                Some((last, head)) if !head.is_empty() => Some(format!("{} or {last}", head.join(", "))),
                _ => None,
            },
            _ => None,
        }
    }
}

/// A number with a zero fraction, as JSON Schema's `integer` counts it (`5` and `5.0`).
fn integral(v: &Value) -> Option<i128> {
    if let Some(n) = v.as_i64() {
        return Some(n.into());
    }
    if let Some(n) = v.as_u64() {
        return Some(n.into());
    }
    // Beyond 2^63 no bound we use can be met; the cast saturates, which keeps it out of range.
    v.as_f64().filter(|x| x.fract() == 0.0).map(|x| x as i128)
}

/// A bound or default as JSON: integral values without a fraction (`10`, not `10.0`).
pub(super) fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// Parses `#rrggbb` or `#rrggbbaa` into RGBA; `None` for anything else.
pub fn parse_colour(s: &str) -> Option<[u8; 4]> {
    let hex = s.strip_prefix('#').filter(|h| (h.len() == 6 || h.len() == 8) && h.bytes().all(|b| b.is_ascii_hexdigit()))?;
    let mut out = [0, 0, 0, 255];
    for (i, slot) in out.iter_mut().enumerate().take(hex.len() / 2) {
        *slot = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}
