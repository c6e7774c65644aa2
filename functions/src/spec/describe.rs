//! From typed [`Param`]s to a step's JSON Schema: the default rendered from the typed value,
//! the annotations, and the object schema that lists them.

use super::kind::num;
use super::{Checked, Kind, Lit, Param, Text};
use crate::params::FieldError;
use serde_json::{json, Map, Value};

/// How a parameter's typed value looks in a schema (`default`) and how it is made from a
/// [`Checked`] value; `None` when the kind does not give this type (the constructors prevent it).
pub trait Typed: Copy {
    fn to_json(self) -> Value;
    fn from_checked(c: Checked<'_>) -> Option<Self>;
}

/// The integer types: an integer parameter is checked as an `i64` ([`Checked::Int`]) and
/// narrowed to the field's type, one definition for each width.
macro_rules! typed_integer {
    ($($t:ty),+) => {$(
        impl Typed for $t {
            fn to_json(self) -> Value {
                json!(self)
            }
            fn from_checked(c: Checked<'_>) -> Option<Self> {
                if let Checked::Int(n) = c {
                    <$t>::try_from(n).ok()
                } else {
                    None
                }
            }
        }
    )+};
}

typed_integer!(u32, u8, i64);

impl Typed for f64 {
    fn to_json(self) -> Value {
        num(self)
    }
    fn from_checked(c: Checked<'_>) -> Option<Self> {
        if let Checked::Num(n) = c {
            Some(n)
        } else {
            None
        }
    }
}

impl Typed for bool {
    fn to_json(self) -> Value {
        json!(self)
    }
    fn from_checked(c: Checked<'_>) -> Option<Self> {
        if let Checked::Bool(b) = c {
            Some(b)
        } else {
            None
        }
    }
}

impl Typed for [u8; 4] {
    fn to_json(self) -> Value {
        let [r, g, b, a] = self;
        let alpha = if a == 255 { String::new() } else { format!("{a:02x}") };
        json!(format!("#{r:02x}{g:02x}{b:02x}{alpha}"))
    }
    fn from_checked(c: Checked<'_>) -> Option<Self> {
        if let Checked::Colour(rgba) = c {
            Some(rgba)
        } else {
            None
        }
    }
}

impl Typed for &'static str {
    fn to_json(self) -> Value {
        json!(self)
    }
    fn from_checked(c: Checked<'_>) -> Option<Self> {
        if let Checked::Choice(s) = c {
            Some(s)
        } else {
            None
        }
    }
}

impl Typed for Text {
    fn to_json(self) -> Value {
        Value::Null
    }
    fn from_checked(_: Checked<'_>) -> Option<Self> {
        None
    }
}

impl Typed for Option<f64> {
    fn to_json(self) -> Value {
        self.map_or(Value::Null, num)
    }
    fn from_checked(c: Checked<'_>) -> Option<Self> {
        match c {
            Checked::Num(n) => Some(Some(n)),
            Checked::Word => Some(None),
            _ => None,
        }
    }
}

/// What a step's schema needs of each parameter, whatever its type.
pub trait Describe: Sync {
    fn name(&self) -> &'static str;
    fn is_required(&self) -> bool;
    /// The property's schema: the kind's, with default, description and examples.
    fn schema(&self) -> Value;
    /// The message for a missing required field.
    fn missing(&self) -> FieldError;
}

impl<T: Typed + Sync> Describe for Param<T> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn is_required(&self) -> bool {
        self.required
    }
    fn schema(&self) -> Value {
        let mut s = self.kind.schema();
        if !self.required {
            s = nullable(s);
        }
        if let Value::Object(m) = &mut s {
            if let Some(d) = self.default {
                // `number_or`'s word default is `None`.
                let v = match (d.to_json(), self.kind) {
                    (Value::Null, Kind::NumberOr { word, .. }) => json!(word),
                    (v, _) => v,
                };
                m.insert("default".into(), v);
            }
            if let Some(d) = self.description {
                m.insert("description".into(), json!(d));
            }
            if !self.examples.is_empty() {
                m.insert("examples".into(), self.examples.iter().map(lit).collect());
            }
        }
        s
    }
    fn missing(&self) -> FieldError {
        match self.kind.hint().or(self.description.map(String::from)) {
            Some(h) => FieldError::new(self.name, format!("is required ({h})")),
            None => FieldError::new(self.name, "is required"),
        }
    }
}

/// `s` also admitting `null` (an optional parameter's "use the default"), in the form each kind's
/// schema takes: a `type` list, an `enum` member or a `oneOf` branch.
fn nullable(mut s: Value) -> Value {
    if let Value::Object(m) = &mut s {
        if let Some(Value::String(t)) = m.get("type") {
            let types = json!([t, "null"]);
            m.insert("type".into(), types);
        } else if let Some(Value::Array(choices)) = m.get_mut("enum") {
            choices.push(Value::Null);
        } else if let Some(Value::Array(branches)) = m.get_mut("oneOf") {
            branches.push(json!({"type": "null"}));
        }
    }
    s
}

/// The schema rule "the field `name` is given" for rules across fields: present and not `null`
/// (a `null` is the default, as if absent).
pub fn given(name: &str) -> Value {
    json!({"required": [name], "properties": {name: {"not": {"type": "null"}}}})
}

fn lit(l: &Lit) -> Value {
    match *l {
        Lit::Int(n) => json!(n),
        Lit::Num(x) => num(x),
        Lit::Str(s) => json!(s),
        Lit::Bool(b) => json!(b),
    }
}

/// The schema of a step object with these parameters (`op` excluded): no other field allowed,
/// the required ones listed. `extra` adds keywords for rules across fields (e.g. `anyOf`).
pub fn object(params: &[&dyn Describe], extra: Value) -> Value {
    let properties: Map<String, Value> = params.iter().map(|p| (p.name().to_string(), p.schema())).collect();
    let required: Vec<&str> = params.iter().filter(|p| p.is_required()).map(|p| p.name()).collect();
    let mut s = json!({"type": "object", "properties": properties, "additionalProperties": false});
    if let Value::Object(m) = &mut s {
        if !required.is_empty() {
            m.insert("required".into(), json!(required));
        }
        if let Value::Object(e) = extra {
            m.extend(e);
        }
    }
    s
}
