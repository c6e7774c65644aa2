//! The options of a render URL (`?w=&h=&fit=&gravity=&q=&format=&dpr=&preset=&steps=`): read
//! once into a typed value, written back in one canonical order (the cache key, and what a
//! signed render link signs), and compiled into a chain of the registry's steps, which
//! [`Chain::parse`] validates like any task's chain.

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use functions::registry::{ENCODE, MAX_DIMENSION, RESIZE};
use functions::{presets, Chain};
use serde_json::{json, Map, Value};
use thiserror::Error;

/// A refused option, named as the client wrote it (the API answers 400 `invalid_chain`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{option}: {message}")]
pub struct OptionError {
    pub option: String,
    pub message: String,
}

fn refuse(option: &str, message: impl Into<String>) -> OptionError {
    OptionError { option: option.into(), message: message.into() }
}

/// Every option, in canonical order.
pub const OPTIONS: [&str; 9] = ["dpr", "fit", "format", "gravity", "h", "preset", "q", "steps", "w"];

/// What a render starts from before `w`/`h`/`format` are applied.
#[derive(Debug, Clone, PartialEq)]
enum Base {
    Nothing,
    Preset(String),
    /// The chain as the client wrote it, base64url (kept verbatim: it is what a link signs and
    /// re-parses), and its steps as API JSON. Spellings of one chain share the stored result,
    /// whose key is the normalised chain's, though not the edge entry.
    Steps {
        encoded: String,
        steps: Vec<Value>,
    },
}

/// A parsed, validated set of render options.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    width: Option<u32>,
    height: Option<u32>,
    fit: Option<String>,
    gravity: Option<String>,
    quality: Option<u32>,
    /// `None`: keep the base chain's own encode (or negotiate when it has none).
    format: Option<String>,
    /// Device pixel ratio in hundredths (100–400).
    dpr: Option<u32>,
    base: Base,
}

impl RenderOptions {
    /// Reads the options of a query (without the signed link's `exp`, `sub`, `sig`). Each may
    /// appear once; an unknown one is refused, as a typo that silently did nothing would be
    /// served (and cached) as the wrong image.
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<RenderOptions, OptionError> {
        let mut seen = Map::new();
        for (key, value) in pairs {
            if !OPTIONS.contains(&key) {
                return Err(refuse(key, format!("is not a render option; expected one of {}", OPTIONS.join(", "))));
            }
            if seen.insert(key.to_string(), Value::String(value.to_string())).is_some() {
                return Err(refuse(key, "is given more than once"));
            }
        }
        Self::from_map(&seen)
    }

    /// Reads the options of a JSON object (`POST /images/{id}/links`' `render`): the same names,
    /// as strings or numbers; `steps` may also be the chain itself (an array).
    pub fn from_json(value: &Value) -> Result<RenderOptions, OptionError> {
        let map = value.as_object().ok_or_else(|| refuse("render", "must be an object of render options"))?;
        if let Some(key) = map.keys().find(|k| !OPTIONS.contains(&k.as_str())) {
            return Err(refuse(key, format!("is not a render option; expected one of {}", OPTIONS.join(", "))));
        }
        Self::from_map(map)
    }

    fn from_map(map: &Map<String, Value>) -> Result<RenderOptions, OptionError> {
        let text = |k: &str| -> Result<Option<String>, OptionError> {
            match map.get(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(_) => Err(refuse(k, "must be a string or a number")),
            }
        };
        let int = |k: &str, max: u32| -> Result<Option<u32>, OptionError> {
            let Some(s) = text(k)? else { return Ok(None) };
            match s.parse::<u32>() {
                Ok(v) if (1..=max).contains(&v) => Ok(Some(v)),
                _ => Err(refuse(k, format!("must be an integer from 1 to {max}"))),
            }
        };
        let options = RenderOptions {
            width: int("w", MAX_DIMENSION)?,
            height: int("h", MAX_DIMENSION)?,
            fit: text("fit")?,
            gravity: text("gravity")?,
            quality: int("q", 100)?,
            format: text("format")?,
            dpr: text("dpr")?.map(|s| parse_dpr(&s)).transpose()?,
            base: base(map.get("preset"), map.get("steps"))?,
        };
        let sized = options.width.is_some() || options.height.is_some();
        for (name, given) in [("fit", options.fit.is_some()), ("gravity", options.gravity.is_some()), ("dpr", options.dpr.is_some())] {
            if given && !sized {
                return Err(refuse(name, "applies to a resize: give w or h too"));
            }
        }
        // Compiling once proves every value against the registry (fit, gravity, format, sizes).
        options.compile("jpeg")?;
        Ok(options)
    }

    /// The options in canonical order and form: equal renditions get equal strings.
    pub fn canonical(&self) -> String {
        let mut parts: Vec<(&str, String)> = Vec::new();
        let dpr = self.dpr.map(|d| format!("{}", f64::from(d) / 100.0));
        let steps = match &self.base {
            Base::Steps { encoded, .. } => Some(encoded.clone()),
            _ => None,
        };
        let preset = match &self.base {
            Base::Preset(name) => Some(name.clone()),
            _ => None,
        };
        let values = [
            dpr,
            self.fit.clone(),
            self.format.clone(),
            self.gravity.clone(),
            self.height.map(|v| v.to_string()),
            preset,
            self.quality.map(|v| v.to_string()),
            steps,
            self.width.map(|v| v.to_string()),
        ];
        for (name, value) in OPTIONS.iter().zip(values) {
            if let Some(v) = value {
                parts.push((name, v));
            }
        }
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(parts).finish()
    }

    /// Whether the output format is chosen from the client's `Accept` (`format=auto`, or no
    /// format and no encode step of its own).
    pub fn negotiates(&self) -> bool {
        match &self.format {
            Some(f) => f == "auto",
            None => self.base_encode().is_none(),
        }
    }

    /// The base chain's steps as API JSON (what [`Chain::parse`] reads).
    fn base_steps(&self) -> Vec<Value> {
        match &self.base {
            Base::Nothing => Vec::new(),
            Base::Preset(name) => match presets::PRESETS.iter().find(|p| p.name == name).map(|p| (p.steps)()) {
                Some(Value::Array(steps)) => steps,
                _ => Vec::new(),
            },
            Base::Steps { steps, .. } => steps.clone(),
        }
    }

    fn base_encode(&self) -> Option<Value> {
        self.base_steps().pop().filter(|s| s["op"] == ENCODE)
    }

    /// The chain these options stand for, with `negotiated` as the format wherever it is
    /// chosen by `Accept`. Errors name the option that caused them.
    pub fn compile(&self, negotiated: &str) -> Result<Chain, OptionError> {
        let mut steps = self.base_steps();
        let base_encode = steps.last().filter(|s| s["op"] == ENCODE).is_some().then(|| steps.pop()).flatten();
        let resize_at = steps.len();
        if self.width.is_some() || self.height.is_some() {
            let scale = |v: u32| (u64::from(v) * u64::from(self.dpr.unwrap_or(100))).div_ceil(100);
            let mut resize = json!({"op": RESIZE});
            for (key, value) in [("width", self.width.map(scale)), ("height", self.height.map(scale))] {
                if let Some(v) = value {
                    resize[key] = json!(v);
                }
            }
            for (key, value) in [("fit", &self.fit), ("gravity", &self.gravity)] {
                if let Some(v) = value {
                    resize[key] = json!(v);
                }
            }
            steps.push(resize);
        }
        let mut encode = match (&self.format, base_encode) {
            (None, Some(own)) => own,
            (format, _) => {
                let format = format.as_deref().filter(|f| *f != "auto").unwrap_or(negotiated);
                json!({"op": ENCODE, "format": format})
            }
        };
        if let Some(q) = self.quality {
            encode["quality"] = json!(q);
        }
        let encode_at = steps.len();
        steps.push(encode);
        Chain::parse(&Value::Array(steps)).map_err(|e| match e.step {
            Some(i) if i == resize_at && i != encode_at => {
                let option = match e.field.as_str() {
                    "width" => "w",
                    "height" => "h",
                    "fit" => "fit",
                    "gravity" => "gravity",
                    _ => "w",
                };
                refuse(option, e.message)
            }
            Some(i) if i == encode_at => refuse(if e.field == "quality" { "q" } else { "format" }, e.message),
            _ => refuse("steps", e.to_string()),
        })
    }
}

fn parse_dpr(s: &str) -> Result<u32, OptionError> {
    let bad = || refuse("dpr", "must be a number from 1 to 4 (at most two decimals)");
    let value: f64 = s.parse().map_err(|_| bad())?;
    let hundredths = (value * 100.0).round();
    if !(100.0..=400.0).contains(&hundredths) || (value * 100.0 - hundredths).abs() > 1e-6 {
        return Err(bad());
    }
    Ok(hundredths as u32)
}

fn base(preset: Option<&Value>, steps: Option<&Value>) -> Result<Base, OptionError> {
    match (preset, steps) {
        (Some(_), Some(_)) => Err(refuse("preset", "give either preset or steps, not both")),
        (Some(Value::String(name)), None) => match presets::chain(name) {
            Some(_) => Ok(Base::Preset(name.clone())),
            None => Err(refuse("preset", format!("unknown preset {name:?}; expected one of {}", presets::names().join(", ")))),
        },
        (Some(_), None) => Err(refuse("preset", "must be a preset name")),
        (None, Some(Value::String(encoded))) => {
            let bytes = URL_SAFE_NO_PAD
                .decode(encoded.trim_end_matches('='))
                .or_else(|_| URL_SAFE.decode(encoded))
                .map_err(|_| refuse("steps", "must be base64url of a JSON array of steps"))?;
            let value: Value = serde_json::from_slice(&bytes).map_err(|_| refuse("steps", "must be base64url of a JSON array of steps"))?;
            chain(encoded.clone(), value)
        }
        (None, Some(value @ Value::Array(_))) => chain(URL_SAFE_NO_PAD.encode(value.to_string()), value.clone()),
        (None, Some(_)) => Err(refuse("steps", "must be base64url of a JSON array of steps")),
        (None, None) => Ok(Base::Nothing),
    }
}

fn chain(encoded: String, value: Value) -> Result<Base, OptionError> {
    Chain::parse(&value).map_err(|e| refuse("steps", e.to_string()))?;
    let Value::Array(steps) = value else { return Err(refuse("steps", "must be a JSON array of steps")) };
    Ok(Base::Steps { encoded, steps })
}

#[cfg(test)]
#[path = "options_tests.rs"]
mod tests;
