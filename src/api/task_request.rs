//! The body of `POST /tasks`, validated into a typed request before anything is looked up,
//! plus the two derived identities: the request's fingerprint (Idempotency-Key) and each
//! image's result key (result reuse).

use super::body::BodyLimit;
use super::error::{ApiError, ApiResult};
use super::task_body::{Loose, TaskBody, TaskFields};
use crate::config::Config;
use crate::ids::ImageId;
use crate::webhook::validate_url;
use functions::{presets, Chain};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Most images one task may process (the contract's bound).
pub const MAX_IMAGES: usize = 100;
/// Largest accepted task request body. 100 image ids and a long chain take a few KiB; the cap
/// keeps a hostile body (say 20 MB of `[0,0,…]`) from being read, let alone parsed, in the
/// 128 MiB isolate.
pub const MAX_TASK_BODY_BYTES: u64 = 64 * 1024;
/// How a 413 names [`MAX_TASK_BODY_BYTES`].
pub const TASK_BODY_LIMIT: BodyLimit = BodyLimit { bytes: MAX_TASK_BODY_BYTES, what: "task requests", source: "64 KiB" };
/// Longest accepted Idempotency-Key.
const MAX_IDEMPOTENCY_KEY: usize = 255;

#[derive(Debug)]
pub struct TaskRequest {
    pub images: Vec<ImageId>,
    pub chain: Chain,
    pub webhook: Option<String>,
}

impl TaskRequest {
    /// Validates a body already read (at most [`MAX_TASK_BODY_BYTES`]).
    pub fn parse(body: &[u8], config: &Config) -> ApiResult<TaskRequest> {
        let text = std::str::from_utf8(body).map_err(|_| ApiError::InvalidJson("the body is not UTF-8 text".into()))?;
        let body: TaskBody = serde_json::from_str(text).map_err(|e| ApiError::InvalidJson(format!("the body is not JSON: {e}")))?;
        let TaskBody::Object(body) = body else {
            return Err(ApiError::InvalidRequest("the body must be a JSON object".into()));
        };
        if let Some(k) = &body.unknown {
            return Err(ApiError::InvalidRequest(format!("{k}: is not a field of a task request")));
        }
        let images = parse_images(&body)?;
        let chain = parse_chain(&body)?;
        let webhook = parse_webhook(&body, config)?;
        Ok(TaskRequest { images, chain, webhook })
    }

    /// Hash of the normalised request: the same request under the same Idempotency-Key is a
    /// replay. Made only for a request that has a key (it cost ~0.5 ms of every task's `POST`).
    pub fn fingerprint(&self) -> String {
        let images: Vec<&str> = self.images.iter().map(ImageId::as_str).collect();
        let normalised = json!({"images": images, "chain": self.chain, "webhook": self.webhook});
        hex::encode(Sha256::digest(normalised.to_string().as_bytes()))
    }
}

fn parse_images(body: &TaskFields) -> ApiResult<Vec<ImageId>> {
    let bad = || ApiError::InvalidRequest(format!("images: must be an array of 1 to {MAX_IMAGES} image ids"));
    let list = match &body.images {
        Some(Loose::List(list)) if (1..=MAX_IMAGES).contains(&list.len()) => list,
        _ => return Err(bad()),
    };
    list.iter()
        .enumerate()
        .map(|(i, v)| match v {
            // A malformed id is simply an image that does not exist.
            Loose::Str(id) => Ok(ImageId::parse(id)?),
            _ => Err(ApiError::InvalidRequest(format!("images[{i}]: must be an image id string"))),
        })
        .collect()
}

/// `steps`, or a `preset` name standing for them (exactly one of the two).
fn parse_chain(body: &TaskFields) -> ApiResult<Chain> {
    match (&body.steps, &body.preset) {
        (Some(_), Some(_)) => Err(ApiError::InvalidRequest("preset: give either steps or preset, not both".into())),
        (Some(steps), None) => Chain::parse(steps).map_err(|e| ApiError::InvalidChain(e.to_string())),
        (None, Some(Loose::Str(name))) => presets::chain(name).ok_or_else(|| {
            ApiError::InvalidChain(format!("preset: unknown preset {name:?}; expected one of {}", presets::names().join(", ")))
        }),
        (None, Some(_)) => Err(ApiError::InvalidChain("preset: must be a preset name".into())),
        (None, None) => Err(ApiError::InvalidChain("steps: is required (or a preset)".into())),
    }
}

fn parse_webhook(body: &TaskFields, config: &Config) -> ApiResult<Option<String>> {
    let url = match &body.webhook {
        None | Some(Loose::Null) => return Ok(None),
        Some(Loose::Str(url)) => url,
        Some(_) => return Err(ApiError::InvalidRequest("webhook: must be a URL string".into())),
    };
    if config.webhook_secret.is_none() {
        return Err(ApiError::InvalidRequest("webhook: this server has no WEBHOOK_SECRET to sign webhooks with".into()));
    }
    let url = validate_url(url, config.webhook_allow_loopback).map_err(|why| ApiError::InvalidRequest(format!("webhook: {why}")))?;
    Ok(Some(url.to_string()))
}

/// An `Idempotency-Key` header value: 1–255 visible ASCII characters.
pub fn idempotency_key(raw: &str) -> ApiResult<&str> {
    let ok = (1..=MAX_IDEMPOTENCY_KEY).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(raw)
        .ok_or_else(|| ApiError::InvalidRequest(format!("Idempotency-Key: must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters")))
}

/// Identity of (the image's bytes, the normalised chain): equal inputs and chains share one
/// stored result, so a repeated request reuses it instead of running.
pub fn result_key(image_sha256: &str, chain: &Chain) -> String {
    let chain = serde_json::to_string(chain).unwrap_or_default();
    // Grouped under the bytes' hash so deleting an image finds every result made from it.
    format!("{image_sha256}/{}", hex::encode(Sha256::digest(chain.as_bytes())))
}

#[cfg(test)]
#[path = "task_request_schema_tests.rs"]
mod schema_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn config(webhooks: bool) -> Config {
        let secret = "k".repeat(32);
        Config::parse(|n| match n {
            "AUTH_SECRET" => Some(secret.clone()),
            "WEBHOOK_SECRET" if webhooks => Some(secret.clone()),
            _ => None,
        })
        .expect("config")
    }

    const IMG: &str = "img_0123456789abcdef0123456789abcdef";

    fn parse_json(body: &Value, config: &Config) -> ApiResult<TaskRequest> {
        TaskRequest::parse(body.to_string().as_bytes(), config)
    }

    fn refusal(body: &[u8]) -> (&'static str, String) {
        let e = TaskRequest::parse(body, &config(true)).expect_err("refused");
        (e.code(), e.to_string())
    }

    fn code(body: Value) -> &'static str {
        parse_json(&body, &config(true)).expect_err("refused").code()
    }

    #[test]
    fn a_preset_stands_for_its_steps() {
        let r = parse_json(&json!({"images": [IMG], "preset": "thumbnail"}), &config(false)).expect("valid");
        assert_eq!(r.chain, presets::chain("thumbnail").expect("preset"));
        assert_eq!(code(json!({"images": [IMG], "preset": "nope"})), "invalid_chain");
        assert_eq!(code(json!({"images": [IMG], "preset": "web", "steps": []})), "invalid_request");
        assert_eq!(code(json!({"images": [IMG]})), "invalid_chain");
    }

    #[test]
    fn images_are_bounded_and_must_be_strings() {
        let many: Vec<&str> = vec![IMG; MAX_IMAGES + 1];
        assert_eq!(code(json!({"images": many, "preset": "web"})), "invalid_request");
        assert_eq!(code(json!({"images": [], "preset": "web"})), "invalid_request");
        assert_eq!(code(json!({"images": [7], "preset": "web"})), "invalid_request");
        let hundred: Vec<&str> = vec![IMG; MAX_IMAGES];
        assert_eq!(parse_json(&json!({"images": hundred, "preset": "web"}), &config(false)).expect("valid").images.len(), 100);
    }

    #[test]
    fn webhooks_need_a_secret_and_a_public_https_url() {
        let ok = json!({"images": [IMG], "preset": "web", "webhook": "https://hooks.example.com/done"});
        assert!(parse_json(&ok, &config(true)).is_ok());
        assert_eq!(parse_json(&ok, &config(false)).expect_err("no secret").code(), "invalid_request");
        assert_eq!(code(json!({"images": [IMG], "preset": "web", "webhook": "http://127.0.0.1/x"})), "invalid_request");
    }

    #[test]
    fn the_fingerprint_follows_the_normalised_request() {
        let parse = |v: Value| parse_json(&v, &config(false)).expect("valid").fingerprint();
        let a = parse(json!({"images": [IMG], "steps": [{"op": "resize", "width": 10}]}));
        let b = parse(json!({"steps": [{"width": 10, "op": "resize", "filter": "lanczos3"}], "images": [IMG]}));
        let c = parse(json!({"images": [IMG], "steps": [{"op": "resize", "width": 11}]}));
        assert_eq!(a, b, "key order and explicit defaults do not matter");
        assert_ne!(a, c);
    }

    #[test]
    fn each_malformed_body_keeps_its_code_and_message() {
        let img = format!("\"images\": [\"{IMG}\"]");
        let cases: &[(String, &str, &str)] = &[
            ("{\"images\": [".into(), "invalid_json", "the body is not JSON: "),
            ("[1, 2]".into(), "invalid_request", "the body must be a JSON object"),
            (format!("{{{img}, \"preset\": \"web\", \"step\": []}}"), "invalid_request", "step: is not a field of a task request"),
            ("{\"images\": \"x\", \"preset\": \"web\"}".into(), "invalid_request", "images: must be an array of 1 to 100 image ids"),
            ("{\"images\": [null], \"preset\": \"web\"}".into(), "invalid_request", "images[0]: must be an image id string"),
            (format!("{{{img}, \"preset\": 5}}"), "invalid_chain", "preset: must be a preset name"),
            (format!("{{{img}, \"steps\": null, \"preset\": null}}"), "invalid_request", "preset: give either steps or preset, not both"),
            (format!("{{{img}, \"preset\": \"web\", \"webhook\": 1}}"), "invalid_request", "webhook: must be a URL string"),
        ];
        for (body, code, message) in cases {
            let (got_code, got_message) = refusal(body.as_bytes());
            assert_eq!(got_code, *code, "{body}");
            assert!(got_message.starts_with(message), "{body}: {got_message}");
        }
        assert_eq!(refusal(b"{\"a\": \"\xff\"}"), ("invalid_json", "the body is not UTF-8 text".into()));
        let no_hook = format!("{{{img}, \"preset\": \"web\", \"webhook\": null}}");
        assert!(TaskRequest::parse(no_hook.as_bytes(), &config(false)).expect("valid").webhook.is_none());
    }

    #[test]
    fn the_largest_legitimate_request_fits_well_under_the_body_cap() {
        let steps: Vec<Value> = (0..functions::chain::MAX_STEPS)
            .map(|_| json!({"op": "resize", "width": 1600, "height": 1200, "filter": "lanczos3"}))
            .collect();
        let body = json!({"images": vec![IMG; MAX_IMAGES], "steps": steps, "webhook": "https://hooks.example.com/a/long/path"});
        assert!((body.to_string().len() as u64) < MAX_TASK_BODY_BYTES / 4, "{} bytes", body.to_string().len());
        assert!(parse_json(&body, &config(true)).is_ok());
    }

    #[test]
    fn result_keys_depend_on_bytes_and_chain() {
        let chain = |w: u32| Chain::parse(&json!([{"op": "resize", "width": w}])).expect("chain");
        assert_eq!(result_key("aa", &chain(5)), result_key("aa", &chain(5)));
        assert_ne!(result_key("aa", &chain(5)), result_key("ab", &chain(5)));
        assert_ne!(result_key("aa", &chain(5)), result_key("aa", &chain(6)));
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert!(idempotency_key("order-42").is_ok());
        assert!(idempotency_key("").is_err() && idempotency_key("a b").is_err() && idempotency_key(&"x".repeat(256)).is_err());
    }
}
