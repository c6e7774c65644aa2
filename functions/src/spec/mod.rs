//! One declaration per step parameter: a [`Param`] holds its name, kind, bounds, default,
//! description and examples; the step's JSON Schema ([`object`]) and its parser
//! ([`crate::params::Fields::get`]) are both derived from it, so the two cannot disagree.
//!
//! Rules that tie several fields together (resize needs width or height, crop's gravity
//! excludes left/top) stay as code in the step's `parse`, beside the schema keywords that state
//! them; `functions/tests/param_spec*.rs` checks that every step's parser accepts exactly what its
//! schema accepts.

mod describe;
mod kind;

pub use describe::{given, object, Describe, Typed};
pub use kind::{parse_colour, Checked, Kind, COLOUR_PATTERN, IMAGE_ID_PATTERN, ONE_LINE_PATTERN};

/// A value as it appears in a schema's `examples`.
#[derive(Debug, Clone, Copy)]
pub enum Lit {
    Int(i64),
    Num(f64),
    Str(&'static str),
    Bool(bool),
}

/// One parameter of one step. `T` is what its parser returns; the constructors below pair each
/// [`Kind`] with its type, so a parameter cannot be read as something it does not hold.
#[derive(Debug, Clone, Copy)]
pub struct Param<T> {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub default: Option<T>,
    pub description: Option<&'static str>,
    pub examples: &'static [Lit],
}

const fn param<T>(name: &'static str, kind: Kind) -> Param<T> {
    Param { name, kind, required: false, default: None, description: None, examples: &[] }
}

impl Param<u32> {
    pub const fn uint(name: &'static str, min: u32, max: u32) -> Self {
        param(name, Kind::Integer { min: min as i64, max: max as i64 })
    }
}

impl Param<u8> {
    pub const fn byte(name: &'static str, min: u8, max: u8) -> Self {
        param(name, Kind::Integer { min: min as i64, max: max as i64 })
    }
}

impl Param<i64> {
    pub const fn int(name: &'static str, min: i64, max: i64) -> Self {
        param(name, Kind::Integer { min, max })
    }
}

impl Param<f64> {
    pub const fn number(name: &'static str, min: f64, max: f64) -> Self {
        param(name, Kind::Number { min, max, above_min: false })
    }
    /// A number greater than `min` and at most `max`.
    pub const fn above(name: &'static str, min: f64, max: f64) -> Self {
        param(name, Kind::Number { min, max, above_min: true })
    }
}

impl Param<bool> {
    pub const fn flag(name: &'static str) -> Self {
        param(name, Kind::Boolean)
    }
}

impl Param<[u8; 4]> {
    pub const fn colour(name: &'static str) -> Self {
        param(name, Kind::Colour)
    }
}

impl Param<&'static str> {
    pub const fn choice(name: &'static str, choices: &'static [&'static str]) -> Self {
        param(name, Kind::Choice(choices))
    }
}

impl<T: Typed> Param<T> {
    /// A choice read as `T`, whose [`Typed::from_checked`] maps [`Checked::Choice`] (an enum).
    pub const fn choice_of(name: &'static str, choices: &'static [&'static str]) -> Self {
        param(name, Kind::Choice(choices))
    }
}

/// Marks text parameters, read with [`crate::params::Fields::text`] (they borrow the request).
#[derive(Debug, Clone, Copy)]
pub struct Text;

impl Param<Text> {
    pub const fn text(name: &'static str, max_chars: usize) -> Self {
        param(name, Kind::Text { max_chars })
    }
    pub const fn image_id(name: &'static str) -> Self {
        param(name, Kind::ImageId)
    }
}

impl Param<Option<f64>> {
    /// A number, or `word` (read as `None`).
    pub const fn number_or(name: &'static str, min: f64, max: f64, word: &'static str) -> Self {
        param(name, Kind::NumberOr { min, max, word })
    }
}

// `T: Copy` lets these run in `const` items (nothing to drop).
impl<T: Copy> Param<T> {
    pub const fn default(self, value: T) -> Self {
        Param { default: Some(value), ..self }
    }
    pub const fn required(self) -> Self {
        Param { required: true, ..self }
    }
    pub const fn describe(self, description: &'static str) -> Self {
        Param { description: Some(description), ..self }
    }
    pub const fn examples(self, examples: &'static [Lit]) -> Self {
        Param { examples, ..self }
    }
}
