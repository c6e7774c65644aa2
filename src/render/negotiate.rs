//! `format=auto`: the best format the client's `Accept` names that the studio can encode.
//!
//! Only formats named explicitly count: `image/*` and `*/*` promise nothing (every browser sends
//! them, including ones that cannot show AVIF). The choice is reduced to an [`AcceptClass`]
//! before the image is known, so the edge cache can be keyed by it without reading anything.

use functions::registry::ENCODE;
use functions::Chain;
use serde_json::json;

/// What a client's `Accept` allows, as far as format negotiation cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptClass {
    /// Takes AVIF (and the studio encodes it).
    Avif,
    /// Takes WebP (and the studio encodes it lossily).
    Webp,
    /// Neither: JPEG, or PNG when the image may be transparent.
    Basic,
}

impl AcceptClass {
    /// The class of an `Accept` header, given what the registry can encode.
    pub fn of(accept: Option<&str>) -> AcceptClass {
        let accepted = |media: &str| accept.is_some_and(|a| names(a, media));
        if accepted("image/avif") && encodes(&json!({"op": ENCODE, "format": "avif"})) {
            AcceptClass::Avif
        } else if accepted("image/webp") && encodes(&json!({"op": ENCODE, "format": "webp", "lossless": false})) {
            // Lossless WebP alone would be larger than a JPEG for photographs: not "better".
            AcceptClass::Webp
        } else {
            AcceptClass::Basic
        }
    }

    /// Its name in cache keys.
    pub fn name(self) -> &'static str {
        match self {
            AcceptClass::Avif => "avif",
            AcceptClass::Webp => "webp",
            AcceptClass::Basic => "basic",
        }
    }

    /// The encode format for an image that `may_have_alpha` (its format can carry transparency).
    pub fn pick(self, may_have_alpha: bool) -> &'static str {
        match (self, may_have_alpha) {
            (AcceptClass::Avif, _) => "avif",
            (AcceptClass::Webp, _) => "webp",
            (AcceptClass::Basic, true) => "png",
            (AcceptClass::Basic, false) => "jpeg",
        }
    }
}

/// Whether the registry's validator accepts this encode step.
fn encodes(step: &serde_json::Value) -> bool {
    Chain::parse(&json!([step])).is_ok()
}

/// Whether `accept` lists `media` with a non-zero quality.
fn names(accept: &str, media: &str) -> bool {
    accept.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let is_media = parts.next().is_some_and(|m| m.eq_ignore_ascii_case(media));
        let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
        is_media && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

    #[test]
    fn only_explicitly_named_formats_count() {
        assert!(names(CHROME, "image/webp"));
        assert!(!names("image/*,*/*;q=0.8", "image/webp"));
        assert!(!names("image/webp;q=0, image/*", "image/webp"), "q=0 refuses");
        assert!(names("IMAGE/WEBP ; q=0.5", "image/webp"));
    }

    #[test]
    fn clients_without_modern_formats_get_jpeg_or_png() {
        assert_eq!(AcceptClass::of(None), AcceptClass::Basic);
        assert_eq!(AcceptClass::of(Some("*/*")), AcceptClass::Basic);
        assert_eq!(AcceptClass::Basic.pick(false), "jpeg");
        assert_eq!(AcceptClass::Basic.pick(true), "png");
    }

    #[test]
    fn a_browser_gets_the_best_format_the_studio_encodes() {
        let class = AcceptClass::of(Some(CHROME));
        // The registry encodes lossy WebP (not AVIF): a browser naming both gets WebP.
        assert_eq!(class, AcceptClass::Webp);
        assert!(encodes(&json!({"op": ENCODE, "format": class.pick(false)})), "{class:?}");
        assert_eq!(AcceptClass::of(Some("image/png,image/*")), AcceptClass::Basic);
    }
}
