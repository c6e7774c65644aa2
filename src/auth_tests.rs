//! Tests of bearer-token verification: what passes, and why each refusal is refused.

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
    assert_eq!(verify(&t, KEY, &RULES, NOW), Err(AuthError::Expired));
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
    assert_eq!(verify(&unsigned, KEY, &RULES, NOW), Err(AuthError::WrongAlgorithm));
}

#[test]
fn tokens_signed_with_the_previous_key_verify_during_rotation() {
    let old = b"fedcba9876543210fedcba9876543210";
    let t = sign(&json!({"sub": "alice", "exp": NOW + 60}), old);
    assert_eq!(verify_any(&t, &keys(&[KEY]), NOW), Err(AuthError::BadSignature));
    assert_eq!(verify_any(&t, &keys(&[KEY, old]), NOW).expect("valid").as_str(), "alice");
    let expired = sign(&json!({"sub": "alice", "exp": NOW - 600}), KEY);
    assert_eq!(verify_any(&expired, &keys(&[KEY, old]), NOW), Err(AuthError::Expired));
}

#[test]
fn only_the_admin_role_claim_makes_an_admin() {
    let admin = |claims: serde_json::Value| verify(&sign(&claims, KEY), KEY, &RULES, NOW).expect("valid").admin;
    assert!(admin(json!({"sub": "ops", "exp": NOW + 60, "role": "admin"})));
    for role in [json!("Admin"), json!("user"), json!(["admin"]), json!(true), json!(null)] {
        assert!(!admin(json!({"sub": "ops", "exp": NOW + 60, "role": role})), "{role}");
    }
    assert!(!admin(json!({"sub": "ops", "exp": NOW + 60})));
}

#[test]
fn future_nbf_is_refused() {
    let t = sign(&json!({"sub": "alice", "exp": NOW + 600, "nbf": NOW + 300}), KEY);
    assert_eq!(verify(&t, KEY, &RULES, NOW), Err(AuthError::NotYetValid));
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
    assert_eq!(verify(&t, KEY, &RULES, NOW), Err(AuthError::TooLong));
    let t = sign(&json!({"sub": "alice", "iat": NOW - 10, "exp": NOW + DAY - 10}), KEY);
    assert!(verify(&t, KEY, &RULES, NOW).is_ok(), "exactly the maximum passes");
    let old = sign(&json!({"sub": "alice", "iat": NOW - 2 * DAY, "exp": NOW + 60}), KEY);
    assert_eq!(verify(&old, KEY, &RULES, NOW), Err(AuthError::TooLong), "judged by exp - iat, not what is left");
}

#[test]
fn without_iat_the_remaining_lifetime_is_bounded() {
    let t = sign(&json!({"sub": "alice", "exp": NOW + DAY + 1}), KEY);
    assert_eq!(verify(&t, KEY, &RULES, NOW), Err(AuthError::TooLong));
    let tooling = sign(&json!({"sub": "alice", "exp": NOW + 7200}), KEY);
    assert!(verify(&tooling, KEY, &RULES, NOW).is_ok(), "scripts/token.mjs and the bench mint 1 h and 2 h");
    let strict = Rules { max_lifetime_secs: 3600, audience: None };
    assert_eq!(verify(&tooling, KEY, &strict, NOW), Err(AuthError::TooLong));
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
        assert_eq!(verify(&with(aud.clone()), KEY, &rules, NOW), Err(AuthError::WrongAudience), "{aud}");
    }
    let none = sign(&json!({"sub": "alice", "exp": NOW + 60}), KEY);
    assert_eq!(verify(&none, KEY, &rules, NOW), Err(AuthError::WrongAudience), "a token without aud is refused");
}

#[test]
fn the_verifier_applies_its_rules_with_every_key() {
    let old = b"fedcba9876543210fedcba9876543210";
    let rules = Rules { max_lifetime_secs: 600, audience: Some("studio") };
    let v = Verifier::new(vec![KEY, old], rules);
    assert_eq!(v.len(), 2, "links see the plain keys");
    let long = sign(&json!({"sub": "alice", "exp": NOW + 601, "aud": "studio"}), old);
    assert_eq!(verify_any(&long, &v, NOW), Err(AuthError::TooLong));
    let ok = sign(&json!({"sub": "alice", "exp": NOW + 600, "aud": "studio"}), old);
    assert_eq!(verify_any(&ok, &v, NOW).expect("valid").as_str(), "alice");
}

#[test]
fn the_authorization_header_must_be_a_bearer_token() {
    assert_eq!(bearer(None), Err(AuthError::Missing));
    assert_eq!(bearer(Some("Basic YWxpY2U6cHc=")), Err(AuthError::NotBearer));
    assert_eq!(bearer(Some("Bearer  abc.def.ghi ")), Ok("abc.def.ghi"));
    assert_eq!(bearer(Some("bearer abc")), Ok("abc"), "the scheme's usual spellings both pass");
}
