//! Reading a step's JSON parameters through their [`Param`] declarations, with errors that name
//! the offending field.

use crate::spec::{Describe, Param, Text, Typed};
use serde_json::{Map, Value};

/// A parameter problem: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError { field: field.to_string(), message: message.into() }
    }
}

/// Reads the fields of one step object and, on [`Fields::finish`], rejects any it never asked
/// for — a misspelt parameter must not be silently ignored.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    seen: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        // `op` is read by the chain parser before the step's own parser runs.
        Fields { map, seen: vec!["op"] }
    }

    /// The raw value of a field; `null` reads as absent. Clients generated from a schema often
    /// send `null` for an optional field they leave unset, meaning "the default": the schemas
    /// admit `null` for every optional parameter, and a required one given `null` is missing.
    fn raw(&mut self, name: &'static str) -> Option<&'a Value> {
        self.seen.push(name);
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// The parameter's value when the field is given; `None` when it is absent.
    pub fn opt<T: Typed>(&mut self, p: &Param<T>) -> Result<Option<T>, FieldError> {
        let Some(v) = self.raw(p.name) else { return Ok(None) };
        let checked = p.kind.check(p.name, v)?;
        // The constructors pair each kind with its type, so this is not expected to fail.
        T::from_checked(checked).map(Some).ok_or_else(|| FieldError::new(p.name, format!("cannot be read, got {v}")))
    }

    /// The parameter's value, or its default when absent; a missing field without a default is
    /// refused as required.
    pub fn get<T: Typed + Sync>(&mut self, p: &Param<T>) -> Result<T, FieldError> {
        match self.opt(p)? {
            Some(v) => Ok(v),
            None => p.default.ok_or_else(|| p.missing()),
        }
    }

    /// A (required) text parameter, borrowed from the request.
    pub fn text(&mut self, p: &Param<Text>) -> Result<&'a str, FieldError> {
        let v = self.raw(p.name).ok_or_else(|| p.missing())?;
        match p.kind.check(p.name, v)? {
            crate::spec::Checked::Str(s) => Ok(s),
            _ => Err(FieldError::new(p.name, format!("must be a string, got {v}"))),
        }
    }

    /// Whether the field is given, not `null` (for rules across fields, stated beside the reads
    /// and in the schema with [`crate::spec::given`]).
    pub fn given<T>(&self, p: &Param<T>) -> bool {
        self.map.get(p.name).is_some_and(|v| !v.is_null())
    }

    /// Fails on the first field that no parser asked for.
    pub fn finish(self) -> Result<(), FieldError> {
        match self.map.keys().find(|k| !self.seen.contains(&k.as_str())) {
            Some(k) => Err(FieldError::new(k, "is not a parameter of this step")),
            None => Ok(()),
        }
    }
}
