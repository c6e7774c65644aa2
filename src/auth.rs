//! Bearer-token authentication: strict HS256 JWT verification yielding the tenant.
//!
//! Strict on purpose: the algorithm is pinned (so `alg: none` or an RSA/HMAC confusion cannot
//! pass), `exp` is required and bounded (a token cannot outlive `MAX_TOKEN_LIFETIME_SECONDS`,
//! since nothing revokes one), `aud` is checked when the server names its audience, and the
//! signature is compared in constant time by the MAC itself. The claims are the client's
//! numbers: every sum and difference saturates, so `i64::MAX` cannot overflow into a pass.

use crate::ids::TenantId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;
use serde::Deserialize;
use std::ops::Deref;

/// Clock skew tolerated on `exp`/`nbf`/`iat`, in seconds.
const LEEWAY_SECS: i64 = 30;

/// What a token must satisfy beyond its signature (from the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules<'a> {
    /// Longest `exp - iat` (or `exp - now` without `iat`) accepted.
    pub max_lifetime_secs: i64,
    /// When set, `aud` must be this string or an array containing it.
    pub audience: Option<&'a str>,
}

/// The keys that verify tokens and signed links (the current one, then one being rotated out),
/// with the token [`Rules`]. It derefs to the keys so that signed links, which carry no claims,
/// take it as the plain list they always did.
#[derive(Debug, Clone)]
pub struct Verifier<'a> {
    keys: Vec<&'a [u8]>,
    rules: Rules<'a>,
}

impl<'a> Verifier<'a> {
    pub fn new(keys: Vec<&'a [u8]>, rules: Rules<'a>) -> Self {
        Verifier { keys, rules }
    }
}

impl<'a> Deref for Verifier<'a> {
    type Target = [&'a [u8]];

    fn deref(&self) -> &Self::Target {
        &self.keys
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    nbf: Option<i64>,
    iat: Option<i64>,
    /// Left untyped: when no audience is configured it is not looked at, whatever it holds.
    aud: Option<serde_json::Value>,
}

/// Verifies `token` signed with one of the verifier's keys at time `now` (unix seconds);
/// returns the tenant or the reason it was refused (safe to show the client: it reveals
/// nothing about the secret).
pub fn verify_any(token: &str, verifier: &Verifier, now: i64) -> Result<TenantId, &'static str> {
    let mut outcome = Err("no verification key");
    for secret in verifier.iter() {
        outcome = verify(token, secret, &verifier.rules, now);
        if outcome != Err(BAD_SIGNATURE) {
            break;
        }
    }
    outcome
}

const BAD_SIGNATURE: &str = "the token signature does not verify";
const TOO_LONG: &str = "the token lives longer than the server allows";
const WRONG_AUDIENCE: &str = "the token is not meant for this service (aud)";

/// Verifies `token` against one key; see [`verify_any`].
pub fn verify(token: &str, secret: &[u8], rules: &Rules, now: i64) -> Result<TenantId, &'static str> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err("the token is not a JWT");
    };
    let header: Header = decode_json(h).ok_or("the token header is malformed")?;
    if header.alg != "HS256" {
        return Err("the token must be signed with HS256");
    }
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| "the token signature is malformed")?;
    let mut mac = crate::signing::keyed(secret);
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(c.as_bytes());
    mac.verify_slice(&signature).map_err(|_| BAD_SIGNATURE)?;
    let claims: Claims = decode_json(c).ok_or("the token claims are malformed (sub and exp are required)")?;
    check_times(&claims, rules.max_lifetime_secs, now)?;
    if let Some(wanted) = rules.audience {
        if !audience_matches(claims.aud.as_ref(), wanted) {
            return Err(WRONG_AUDIENCE);
        }
    }
    TenantId::parse(&claims.sub).ok_or("the token subject is not a valid tenant id")
}

fn check_times(claims: &Claims, max_lifetime: i64, now: i64) -> Result<(), &'static str> {
    if claims.exp.saturating_add(LEEWAY_SECS) < now {
        return Err("the token has expired");
    }
    let early = |t: i64| t.saturating_sub(LEEWAY_SECS) > now;
    if claims.nbf.is_some_and(early) || claims.iat.is_some_and(early) {
        return Err("the token is not valid yet");
    }
    // Without `iat` the remaining lifetime is what can be judged; an `iat` in the far past makes
    // the difference huge, which is right: such a token was minted to last that long.
    if claims.exp.saturating_sub(claims.iat.unwrap_or(now)) > max_lifetime {
        return Err(TOO_LONG);
    }
    Ok(())
}

fn audience_matches(aud: Option<&serde_json::Value>, wanted: &str) -> bool {
    match aud {
        Some(serde_json::Value::String(one)) => one == wanted,
        Some(serde_json::Value::Array(many)) => many.iter().any(|a| a.as_str() == Some(wanted)),
        _ => false,
    }
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Signs claims into a token: the Worker only verifies (tokens come from the tenant's
    /// issuer, or `npm run token` locally).
    fn sign(claims: &serde_json::Value, secret: &[u8]) -> String {
        sign_with_header(r#"{"alg":"HS256","typ":"JWT"}"#, claims, secret)
    }

    fn sign_with_header(header: &str, claims: &serde_json::Value, secret: &[u8]) -> String {
        let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut mac = crate::signing::keyed(secret);
        mac.update(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;
    const RULES: Rules = Rules { max_lifetime_secs: DAY, audience: None };

    fn keys<'a>(keys: &[&'a [u8]]) -> Verifier<'a> {
        Verifier::new(keys.to_vec(), RULES)
    }

    #[test]
    fn valid_token_yields_its_tenant() {
        let t = sign(&json!({"sub": "alice", "exp": NOW + 60}), KEY);
        assert_eq!(verify(&t, KEY, &RULES, NOW).expect("valid").as_str(), "alice");
    }

    #[test]
    fn expired_token_is_refused_beyond_the_leeway() {
        let t = sign(&json!({"sub": "alice", "exp": NOW - 31}), KEY);
        assert_eq!(verify(&t, KEY, &RULES, NOW), Err("the token has expired"));
        let t = sign(&json!({"sub": "alice", "exp": NOW - 5}), KEY);
        assert!(verify(&t, KEY, &RULES, NOW).is_ok(), "small skew is tolerated");
    }

    #[test]
    fn missing_exp_is_refused() {
        let t = sign(&json!({"sub": "alice"}), KEY);
        assert!(verify(&t, KEY, &RULES, NOW).is_err());
    }

    #[test]
    fn wrong_key_and_tampered_claims_are_refused() {
        let t = sign(&json!({"sub": "alice", "exp": NOW + 60}), KEY);
        assert!(verify(&t, b"another key another key another k", &RULES, NOW).is_err());
        let forged_claims = URL_SAFE_NO_PAD.encode(json!({"sub": "bob", "exp": NOW + 60}).to_string());
        let mut parts: Vec<&str> = t.split('.').collect();
        parts[1] = &forged_claims;
        assert!(verify(&parts.join("."), KEY, &RULES, NOW).is_err());
    }

    #[test]
    fn alg_none_is_refused_even_without_a_signature() {
        let t = sign_with_header(r#"{"alg":"none"}"#, &json!({"sub": "alice", "exp": NOW + 60}), KEY);
        let unsigned = format!("{}.", t.rsplit_once('.').expect("three parts").0);
        assert_eq!(verify(&unsigned, KEY, &RULES, NOW), Err("the token must be signed with HS256"));
    }

    #[test]
    fn tokens_signed_with_the_previous_key_verify_during_rotation() {
        let old = b"fedcba9876543210fedcba9876543210";
        let t = sign(&json!({"sub": "alice", "exp": NOW + 60}), old);
        assert_eq!(verify_any(&t, &keys(&[KEY]), NOW), Err(BAD_SIGNATURE));
        assert_eq!(verify_any(&t, &keys(&[KEY, old]), NOW).expect("valid").as_str(), "alice");
        let expired = sign(&json!({"sub": "alice", "exp": NOW - 600}), KEY);
        assert_eq!(verify_any(&expired, &keys(&[KEY, old]), NOW), Err("the token has expired"));
    }

    #[test]
    fn future_nbf_is_refused() {
        let t = sign(&json!({"sub": "alice", "exp": NOW + 600, "nbf": NOW + 300}), KEY);
        assert_eq!(verify(&t, KEY, &RULES, NOW), Err("the token is not valid yet"));
    }

    #[test]
    fn hostile_extreme_times_neither_overflow_nor_pass() {
        let cases = [
            json!({"sub": "alice", "exp": i64::MAX}),
            json!({"sub": "alice", "exp": i64::MAX, "iat": i64::MIN}),
            json!({"sub": "alice", "exp": i64::MAX, "iat": NOW}),
            json!({"sub": "alice", "exp": NOW + 60, "nbf": i64::MIN, "iat": i64::MIN}),
            json!({"sub": "alice", "exp": i64::MIN}),
            json!({"sub": "alice", "exp": NOW + 60, "nbf": i64::MAX}),
            json!({"sub": "alice", "exp": NOW + 60, "iat": i64::MAX}),
        ];
        for claims in cases {
            let t = sign(&claims, KEY);
            assert!(verify(&t, KEY, &RULES, NOW).is_err(), "{claims}");
            // Hostile clocks too: debug builds panic on overflow, so reaching the end is the test.
            for now in [i64::MIN, -1, 0, i64::MAX] {
                let _ = verify(&t, KEY, &RULES, now);
            }
        }
    }

    #[test]
    fn a_token_minted_to_outlive_the_maximum_is_refused() {
        let t = sign(&json!({"sub": "alice", "iat": NOW, "exp": NOW + DAY + 1}), KEY);
        assert_eq!(verify(&t, KEY, &RULES, NOW), Err(TOO_LONG));
        let t = sign(&json!({"sub": "alice", "iat": NOW - 10, "exp": NOW + DAY - 10}), KEY);
        assert!(verify(&t, KEY, &RULES, NOW).is_ok(), "exactly the maximum passes");
        let old = sign(&json!({"sub": "alice", "iat": NOW - 2 * DAY, "exp": NOW + 60}), KEY);
        assert_eq!(verify(&old, KEY, &RULES, NOW), Err(TOO_LONG), "judged by exp - iat, not what is left");
    }

    #[test]
    fn without_iat_the_remaining_lifetime_is_bounded() {
        let t = sign(&json!({"sub": "alice", "exp": NOW + DAY + 1}), KEY);
        assert_eq!(verify(&t, KEY, &RULES, NOW), Err(TOO_LONG));
        let tooling = sign(&json!({"sub": "alice", "exp": NOW + 7200}), KEY);
        assert!(verify(&tooling, KEY, &RULES, NOW).is_ok(), "scripts/token.mjs and the bench mint 1 h and 2 h");
        let strict = Rules { max_lifetime_secs: 3600, audience: None };
        assert_eq!(verify(&tooling, KEY, &strict, NOW), Err(TOO_LONG));
    }

    #[test]
    fn audience_is_ignored_when_none_is_configured() {
        for aud in [json!("elsewhere"), json!(42), json!(["a", "b"])] {
            let t = sign(&json!({"sub": "alice", "exp": NOW + 60, "aud": aud}), KEY);
            assert!(verify(&t, KEY, &RULES, NOW).is_ok(), "{aud}");
        }
    }

    #[test]
    fn a_configured_audience_must_be_the_aud_or_in_it() {
        let rules = Rules { max_lifetime_secs: DAY, audience: Some("studio") };
        let with = |aud: serde_json::Value| sign(&json!({"sub": "alice", "exp": NOW + 60, "aud": aud}), KEY);
        assert!(verify(&with(json!("studio")), KEY, &rules, NOW).is_ok());
        assert!(verify(&with(json!(["billing", "studio"])), KEY, &rules, NOW).is_ok());
        for aud in [json!("billing"), json!(["billing"]), json!([]), json!("Studio"), json!(["studio "]), json!(7)] {
            assert_eq!(verify(&with(aud.clone()), KEY, &rules, NOW), Err(WRONG_AUDIENCE), "{aud}");
        }
        let none = sign(&json!({"sub": "alice", "exp": NOW + 60}), KEY);
        assert_eq!(verify(&none, KEY, &rules, NOW), Err(WRONG_AUDIENCE), "a token without aud is refused");
    }

    #[test]
    fn the_verifier_applies_its_rules_with_every_key() {
        let old = b"fedcba9876543210fedcba9876543210";
        let rules = Rules { max_lifetime_secs: 600, audience: Some("studio") };
        let v = Verifier::new(vec![KEY, old], rules);
        assert_eq!(v.len(), 2, "links see the plain keys");
        let long = sign(&json!({"sub": "alice", "exp": NOW + 601, "aud": "studio"}), old);
        assert_eq!(verify_any(&long, &v, NOW), Err(TOO_LONG));
        let ok = sign(&json!({"sub": "alice", "exp": NOW + 600, "aud": "studio"}), old);
        assert_eq!(verify_any(&ok, &v, NOW).expect("valid").as_str(), "alice");
    }
}
