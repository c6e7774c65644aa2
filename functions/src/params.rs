//! Reading a step's JSON parameters with errors that name the offending field.

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

    fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        self.seen.push(name);
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// An optional integer in `min..=max`.
    pub fn u32_in(&mut self, name: &'static str, min: u32, max: u32) -> Result<Option<u32>, FieldError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        match v.as_u64() {
            Some(n) if n >= u64::from(min) && n <= u64::from(max) => Ok(Some(n as u32)),
            _ => Err(FieldError::new(name, format!("must be an integer from {min} to {max}, got {v}"))),
        }
    }

    /// An optional boolean.
    pub fn bool(&mut self, name: &'static str) -> Result<Option<bool>, FieldError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        v.as_bool().map(Some).ok_or_else(|| FieldError::new(name, format!("must be true or false, got {v}")))
    }

    /// An optional number in `min..=max`.
    pub fn f64_in(&mut self, name: &'static str, min: f64, max: f64) -> Result<Option<f64>, FieldError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        match v.as_f64() {
            Some(n) if n >= min && n <= max => Ok(Some(n)),
            _ => Err(FieldError::new(name, format!("must be a number from {min} to {max}, got {v}"))),
        }
    }

    /// An optional signed integer in `min..=max`.
    pub fn i64_in(&mut self, name: &'static str, min: i64, max: i64) -> Result<Option<i64>, FieldError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        match v.as_i64() {
            Some(n) if n >= min && n <= max => Ok(Some(n)),
            _ => Err(FieldError::new(name, format!("must be an integer from {min} to {max}, got {v}"))),
        }
    }

    /// An optional colour (`#rrggbb` or `#rrggbbaa`).
    pub fn colour(&mut self, name: &'static str) -> Result<Option<[u8; 4]>, FieldError> {
        match self.string(name)? {
            Some(s) => parse_colour(name, s).map(Some),
            None => Ok(None),
        }
    }

    /// An optional string that must be one of `choices`.
    pub fn choice(&mut self, name: &'static str, choices: &[&'static str]) -> Result<Option<&'static str>, FieldError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        v.as_str()
            .and_then(|s| choices.iter().copied().find(|c| *c == s))
            .map(Some)
            .ok_or_else(|| FieldError::new(name, format!("must be one of {}, got {v}", choices.join(", "))))
    }

    /// An optional string, returned as is.
    pub fn string(&mut self, name: &'static str) -> Result<Option<&'a str>, FieldError> {
        let Some(v) = self.get(name) else { return Ok(None) };
        v.as_str().map(Some).ok_or_else(|| FieldError::new(name, format!("must be a string, got {v}")))
    }

    /// Fails on the first field that no parser asked for.
    pub fn finish(self) -> Result<(), FieldError> {
        match self.map.keys().find(|k| !self.seen.contains(&k.as_str())) {
            Some(k) => Err(FieldError::new(k, "is not a parameter of this step")),
            None => Ok(()),
        }
    }
}

/// Parses `#rrggbb` or `#rrggbbaa` into RGBA.
pub fn parse_colour(field: &str, s: &str) -> Result<[u8; 4], FieldError> {
    let hex = s.strip_prefix('#').filter(|h| (h.len() == 6 || h.len() == 8) && h.is_ascii());
    let bad = || FieldError::new(field, format!("must be a colour like #rrggbb or #rrggbbaa, got {s:?}"));
    let hex = hex.ok_or_else(bad)?;
    let mut out = [0, 0, 0, 255];
    for (i, slot) in out.iter_mut().enumerate().take(hex.len() / 2) {
        *slot = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}
