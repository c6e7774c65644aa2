//! `format=auto`: the best format the client's `Accept` names that the studio can encode.
//!
//! Only formats named explicitly count: `image/*` and `*/*` promise nothing (every browser sends
//! them, including ones that cannot show AVIF). The choice is reduced to an [`AcceptClass`]
//! before the image is known, so the edge cache can be keyed by it without reading anything.
//!
//! AVIF is picked only for small outputs ([`AVIF_AUTO_MAX_PIXELS`]): its encoder costs 10 to 50
//! times WebP's CPU, and a render answers a waiting browser inside the request's CPU limit.
//! Larger outputs fall back to lossy WebP when the client takes it, else JPEG/PNG. The fallback
//! depends only on the image and the options, so one URL and class always give one format and
//! the class-keyed edge cache stays right. An explicit `format=avif` is not negotiated: it always
//! gives AVIF, within the planner's limits.

use super::options::{OptionError, RenderOptions};
use functions::registry::ENCODE;
use functions::{Chain, Format};
use serde_json::json;

/// Largest output (width × height, after the chain) that `format=auto` encodes as AVIF: about
/// 0.5 MP (e.g. 800×600). Measured in workerd at speed 10 (docs/BENCHMARKS.md, "AVIF"): the
/// AVIF encode adds about 280 ms of work over WebP's at 800×600 (450 ms in all with the decode),
/// and larger outputs grow with their pixels (a 1600×1200 AVIF does not even fit the planner's
/// default memory budget).
pub const AVIF_AUTO_MAX_PIXELS: u64 = 500_000;

/// What a client's `Accept` allows, as far as format negotiation cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptClass {
    /// Takes AVIF and lossy WebP (and the studio encodes both).
    Avif,
    /// Takes AVIF but not WebP: JPEG/PNG when the output is too large for AVIF.
    AvifOnly,
    /// Takes WebP (and the studio encodes it lossily).
    Webp,
    /// Neither: JPEG, or PNG when the image may be transparent.
    Basic,
}

impl AcceptClass {
    /// The class of an `Accept` header, given what the registry can encode.
    pub fn of(accept: Option<&str>) -> AcceptClass {
        let accepted = |media: &str| accept.is_some_and(|a| names(a, media));
        // Lossless WebP alone would be larger than a JPEG for photographs: not "better".
        let webp = accepted("image/webp") && encodes(&json!({"op": ENCODE, "format": "webp", "lossless": false}));
        let avif = accepted("image/avif") && encodes(&json!({"op": ENCODE, "format": "avif"}));
        match (avif, webp) {
            (true, true) => AcceptClass::Avif,
            (true, false) => AcceptClass::AvifOnly,
            (false, true) => AcceptClass::Webp,
            (false, false) => AcceptClass::Basic,
        }
    }

    /// Its name in cache keys.
    pub fn name(self) -> &'static str {
        match self {
            AcceptClass::Avif => "avif",
            AcceptClass::AvifOnly => "avif-only",
            AcceptClass::Webp => "webp",
            AcceptClass::Basic => "basic",
        }
    }

    /// The encode format for an image that `may_have_alpha` (its format can carry transparency).
    pub fn pick(self, may_have_alpha: bool) -> &'static str {
        match (self, may_have_alpha) {
            (AcceptClass::Avif | AcceptClass::AvifOnly, _) => "avif",
            (AcceptClass::Webp, _) => "webp",
            (AcceptClass::Basic, true) => "png",
            (AcceptClass::Basic, false) => "jpeg",
        }
    }

    /// The class to fall back to when AVIF is too costly for the output.
    fn without_avif(self) -> AcceptClass {
        match self {
            AcceptClass::Avif => AcceptClass::Webp,
            AcceptClass::AvifOnly => AcceptClass::Basic,
            other => other,
        }
    }
}

/// The chain `options` compile to for a client of `class` and a source of `format` and
/// `dims`: the class's best format, but not AVIF for an output over [`AVIF_AUTO_MAX_PIXELS`].
pub fn negotiated_chain(options: &RenderOptions, class: AcceptClass, format: Format, dims: (u32, u32)) -> Result<Chain, OptionError> {
    let alpha = super::may_have_alpha(format);
    let chain = options.compile(class.pick(alpha))?;
    if class.without_avif() != class && output_pixels(&chain, dims) > AVIF_AUTO_MAX_PIXELS {
        return options.compile(class.without_avif().pick(alpha));
    }
    Ok(chain)
}

/// Pixels of the chain's output for a `dims` source (an impossible chain counts as too many:
/// it fails later with its own error whatever the format).
fn output_pixels(chain: &Chain, dims: (u32, u32)) -> u64 {
    let out = chain.steps().iter().try_fold(dims, |(w, h), step| step.output_dims(w, h));
    out.map_or(u64::MAX, |(w, h)| u64::from(w) * u64::from(h))
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
        assert_eq!(class, AcceptClass::Avif);
        assert!(encodes(&json!({"op": ENCODE, "format": class.pick(false)})), "{class:?}");
        assert_eq!(AcceptClass::of(Some("image/webp,image/*")), AcceptClass::Webp);
        assert_eq!(AcceptClass::of(Some("image/avif,image/*")), AcceptClass::AvifOnly);
        assert_eq!(AcceptClass::of(Some("image/png,image/*")), AcceptClass::Basic);
    }

    fn format_of(options: &str, class: AcceptClass, source: Format, dims: (u32, u32)) -> String {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(options.as_bytes()).into_owned().collect();
        let options = RenderOptions::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).expect("options");
        let chain = serde_json::to_value(negotiated_chain(&options, class, source, dims).expect("chain")).expect("json");
        chain.as_array().and_then(|steps| steps.last()).and_then(|encode| encode["format"].as_str()).unwrap_or_default().to_string()
    }

    #[test]
    fn avif_is_negotiated_only_for_outputs_cheap_enough_to_encode_on_request() {
        let photo = (4000, 3000);
        assert_eq!(format_of("w=256", AcceptClass::Avif, Format::Jpeg, photo), "avif");
        // A square at the bound is AVIF; one pixel wider is not.
        let side = (1..).take_while(|s: &u64| s * s <= AVIF_AUTO_MAX_PIXELS).last().unwrap_or(1);
        let square = |w: u64| format!("w={w}&h={side}&fit=fill");
        assert_eq!(format_of(&square(side), AcceptClass::Avif, Format::Jpeg, photo), "avif");
        assert_eq!(format_of(&square(side + 1), AcceptClass::Avif, Format::Jpeg, photo), "webp");
        assert_eq!(format_of("w=128&dpr=4", AcceptClass::Avif, Format::Jpeg, photo), "avif", "512×384");
        assert_eq!(format_of("w=1600", AcceptClass::Avif, Format::Jpeg, photo), "webp");
        assert_eq!(format_of("w=1600", AcceptClass::AvifOnly, Format::Jpeg, photo), "jpeg");
        assert_eq!(format_of("w=1600", AcceptClass::AvifOnly, Format::Png, photo), "png");
        assert_eq!(format_of("", AcceptClass::Avif, Format::Jpeg, (320, 200)), "avif", "a small original as it is");
        assert_eq!(format_of("", AcceptClass::Avif, Format::Jpeg, photo), "webp", "a large original as it is");
    }

    #[test]
    fn an_explicit_avif_is_not_negotiated_away() {
        assert_eq!(format_of("w=1600&format=avif", AcceptClass::Basic, Format::Jpeg, (4000, 3000)), "avif");
    }
}
