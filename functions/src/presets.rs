//! Built-in named chains (`"preset": "thumbnail"` instead of `"steps"`), listed by
//! `GET /presets`. Built from the registry's names, and parsed by the same [`Chain::parse`]
//! as user chains, so a preset can never drift from the catalogue (a test parses them all).

use crate::chain::Chain;
use crate::registry::{AUTO_ORIENT, ENCODE, RESIZE, SHARPEN};
use serde_json::{json, Value};

pub struct Preset {
    pub name: &'static str,
    pub description: &'static str,
    pub steps: fn() -> Value,
}

pub static PRESETS: &[Preset] = &[
    Preset {
        name: "thumbnail",
        description: "A 256×256 square thumbnail (cropped to fill), lossy WebP quality 80",
        steps: || {
            json!([
                {"op": AUTO_ORIENT},
                {"op": RESIZE, "width": 256, "height": 256, "fit": "cover", "filter": "lanczos3"},
                {"op": ENCODE, "format": "webp", "quality": 80}
            ])
        },
    },
    Preset {
        name: "web",
        description: "Fit within 1600×1600 for the web, lightly sharpened, JPEG quality 80",
        steps: || {
            json!([
                {"op": AUTO_ORIENT},
                {"op": RESIZE, "width": 1600, "height": 1600, "fit": "inside", "filter": "lanczos3"},
                {"op": SHARPEN},
                {"op": ENCODE, "format": "jpeg", "quality": 80}
            ])
        },
    },
    Preset {
        name: "avatar",
        description: "A 512×512 square avatar (cropped to fill), PNG",
        steps: || {
            json!([
                {"op": AUTO_ORIENT},
                {"op": RESIZE, "width": 512, "height": 512, "fit": "cover", "filter": "lanczos3"},
                {"op": ENCODE, "format": "png"}
            ])
        },
    },
];

/// The chain of the preset `name`, or `None` if there is no such preset.
pub fn chain(name: &str) -> Option<Chain> {
    let preset = PRESETS.iter().find(|p| p.name == name)?;
    // Presets are parsed like user input; the test below guarantees they are valid.
    Chain::parse(&(preset.steps)()).ok()
}

pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// `GET /presets`.
pub fn catalogue() -> Value {
    let presets: Vec<Value> = PRESETS.iter().map(|p| json!({"name": p.name, "description": p.description, "steps": (p.steps)()})).collect();
    json!({ "presets": presets })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_a_valid_chain() {
        for p in PRESETS {
            Chain::parse(&(p.steps)()).unwrap_or_else(|e| panic!("preset {} is invalid: {e}", p.name));
            assert!(chain(p.name).is_some());
        }
        assert!(chain("nope").is_none());
        assert_eq!(catalogue()["presets"].as_array().map(Vec::len), Some(PRESETS.len()));
    }
}
