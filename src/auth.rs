//! Bearer-token authentication: strict HS256 JWT verification yielding the tenant.
//!
//! Strict on purpose: the algorithm is pinned (so `alg: none` or an RSA/HMAC confusion cannot
//! pass), `exp` is required, and the signature is compared in constant time by the MAC itself.

use crate::ids::TenantId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Clock skew tolerated on `exp`/`nbf`/`iat`, in seconds.
const LEEWAY_SECS: i64 = 30;

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
}

/// Verifies `token` signed with one of `secrets` (the current key, then one being rotated out)
/// at time `now` (unix seconds); returns the tenant or the reason it was refused (safe to show
/// the client: it reveals nothing about the secret).
pub fn verify_any(token: &str, secrets: &[&[u8]], now: i64) -> Result<TenantId, &'static str> {
    let mut outcome = Err("no verification key");
    for secret in secrets {
        outcome = verify(token, secret, now);
        if outcome != Err(BAD_SIGNATURE) {
            break;
        }
    }
    outcome
}

const BAD_SIGNATURE: &str = "the token signature does not verify";

/// Verifies `token` against one key; see [`verify_any`].
pub fn verify(token: &str, secret: &[u8], now: i64) -> Result<TenantId, &'static str> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err("the token is not a JWT");
    };
    let header: Header = decode_json(h).ok_or("the token header is malformed")?;
    if header.alg != "HS256" {
        return Err("the token must be signed with HS256");
    }
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| "the token signature is malformed")?;
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| "the server key is unusable")?;
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(c.as_bytes());
    mac.verify_slice(&signature).map_err(|_| BAD_SIGNATURE)?;
    let claims: Claims = decode_json(c).ok_or("the token claims are malformed (sub and exp are required)")?;
    if claims.exp + LEEWAY_SECS < now {
        return Err("the token has expired");
    }
    if claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECS > now) || claims.iat.is_some_and(|iat| iat - LEEWAY_SECS > now) {
        return Err("the token is not valid yet");
    }
    TenantId::parse(&claims.sub).ok_or("the token subject is not a valid tenant id")
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Signs claims into a token. Used by tests and tooling; the Worker itself only verifies.
pub fn sign(claims: &serde_json::Value, secret: &[u8]) -> String {
    sign_with_header(r#"{"alg":"HS256","typ":"JWT"}"#, claims, secret)
}

fn sign_with_header(header: &str, claims: &serde_json::Value, secret: &[u8]) -> String {
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims.to_string()));
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length"); // ok: infallible
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn valid_token_yields_its_tenant() {
        let t = sign(&json!({"sub": "alice", "exp": NOW + 60}), KEY);
        assert_eq!(verify(&t, KEY, NOW).expect("valid").as_str(), "alice");
    }

    #[test]
    fn expired_token_is_refused_beyond_the_leeway() {
        let t = sign(&json!({"sub": "alice", "exp": NOW - 31}), KEY);
        assert_eq!(verify(&t, KEY, NOW), Err("the token has expired"));
        let t = sign(&json!({"sub": "alice", "exp": NOW - 5}), KEY);
        assert!(verify(&t, KEY, NOW).is_ok(), "small skew is tolerated");
    }

    #[test]
    fn missing_exp_is_refused() {
        let t = sign(&json!({"sub": "alice"}), KEY);
        assert!(verify(&t, KEY, NOW).is_err());
    }

    #[test]
    fn wrong_key_and_tampered_claims_are_refused() {
        let t = sign(&json!({"sub": "alice", "exp": NOW + 60}), KEY);
        assert!(verify(&t, b"another key another key another k", NOW).is_err());
        let forged_claims = URL_SAFE_NO_PAD.encode(json!({"sub": "bob", "exp": NOW + 60}).to_string());
        let mut parts: Vec<&str> = t.split('.').collect();
        parts[1] = &forged_claims;
        assert!(verify(&parts.join("."), KEY, NOW).is_err());
    }

    #[test]
    fn alg_none_is_refused_even_without_a_signature() {
        let t = sign_with_header(r#"{"alg":"none"}"#, &json!({"sub": "alice", "exp": NOW + 60}), KEY);
        let unsigned = format!("{}.", t.rsplit_once('.').expect("three parts").0);
        assert_eq!(verify(&unsigned, KEY, NOW), Err("the token must be signed with HS256"));
    }

    #[test]
    fn tokens_signed_with_the_previous_key_verify_during_rotation() {
        let old = b"fedcba9876543210fedcba9876543210";
        let t = sign(&json!({"sub": "alice", "exp": NOW + 60}), old);
        assert_eq!(verify_any(&t, &[KEY], NOW), Err(BAD_SIGNATURE));
        assert_eq!(verify_any(&t, &[KEY, old], NOW).expect("valid").as_str(), "alice");
        let expired = sign(&json!({"sub": "alice", "exp": NOW - 600}), KEY);
        assert_eq!(verify_any(&expired, &[KEY, old], NOW), Err("the token has expired"));
    }

    #[test]
    fn future_nbf_is_refused() {
        let t = sign(&json!({"sub": "alice", "exp": NOW + 600, "nbf": NOW + 300}), KEY);
        assert_eq!(verify(&t, KEY, NOW), Err("the token is not valid yet"));
    }
}
