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
use thiserror::Error;

/// Why a request's bearer token was refused. Every message is safe to show the client: none
/// reveals anything about the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error("an Authorization: Bearer token is required")]
    Missing,
    #[error("the Authorization header must be \"Bearer <token>\"")]
    NotBearer,
    #[error("the token is not a JWT")]
    NotJwt,
    #[error("the token header is malformed")]
    MalformedHeader,
    #[error("the token must be signed with HS256")]
    WrongAlgorithm,
    #[error("the token signature is malformed")]
    MalformedSignature,
    #[error("the token signature does not verify")]
    BadSignature,
    #[error("the token claims are malformed (sub and exp are required)")]
    MalformedClaims,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token lives longer than the server allows")]
    TooLong,
    #[error("the token is not meant for this service (aud)")]
    WrongAudience,
    #[error("the token subject is not a valid tenant id")]
    BadSubject,
    /// No key configured: unreachable with a valid configuration (`AUTH_SECRET` is required).
    #[error("no verification key")]
    NoKey,
}

/// The token of an `Authorization` header value (`Bearer <token>`, either case of the scheme).
pub fn bearer(header: Option<&str>) -> Result<&str, AuthError> {
    let header = header.ok_or(AuthError::Missing)?;
    let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).ok_or(AuthError::NotBearer)?;
    Ok(token.trim())
}

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
    /// `"admin"` opens the `/admin/…` routes; anything else (or nothing) does not.
    role: Option<serde_json::Value>,
}

/// Who a verified token speaks for: its tenant, and whether it may use the admin routes. It
/// derefs to the tenant, which is all most routes need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub tenant: TenantId,
    pub admin: bool,
}

impl Deref for Identity {
    type Target = TenantId;

    fn deref(&self) -> &TenantId {
        &self.tenant
    }
}

/// Verifies `token` signed with one of the verifier's keys at time `now` (unix seconds);
/// returns the tenant or the reason it was refused.
pub fn verify_any(token: &str, verifier: &Verifier, now: i64) -> Result<Identity, AuthError> {
    let mut outcome = Err(AuthError::NoKey);
    for secret in verifier.iter() {
        outcome = verify(token, secret, &verifier.rules, now);
        if outcome != Err(AuthError::BadSignature) {
            break;
        }
    }
    outcome
}

/// Verifies `token` against one key; see [`verify_any`].
pub fn verify(token: &str, secret: &[u8], rules: &Rules, now: i64) -> Result<Identity, AuthError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(AuthError::NotJwt);
    };
    let header: Header = decode_json(h).ok_or(AuthError::MalformedHeader)?;
    if header.alg != "HS256" {
        return Err(AuthError::WrongAlgorithm);
    }
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| AuthError::MalformedSignature)?;
    let mut mac = crate::signing::keyed(secret);
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(c.as_bytes());
    mac.verify_slice(&signature).map_err(|_| AuthError::BadSignature)?;
    let claims: Claims = decode_json(c).ok_or(AuthError::MalformedClaims)?;
    check_times(&claims, rules.max_lifetime_secs, now)?;
    if let Some(wanted) = rules.audience {
        if !audience_matches(claims.aud.as_ref(), wanted) {
            return Err(AuthError::WrongAudience);
        }
    }
    let tenant = TenantId::parse(&claims.sub).ok_or(AuthError::BadSubject)?;
    Ok(Identity { tenant, admin: claims.role.as_ref().and_then(|r| r.as_str()) == Some("admin") })
}

fn check_times(claims: &Claims, max_lifetime: i64, now: i64) -> Result<(), AuthError> {
    if claims.exp.saturating_add(LEEWAY_SECS) < now {
        return Err(AuthError::Expired);
    }
    let early = |t: i64| t.saturating_sub(LEEWAY_SECS) > now;
    if claims.nbf.is_some_and(early) || claims.iat.is_some_and(early) {
        return Err(AuthError::NotYetValid);
    }
    // Without `iat` the remaining lifetime is what can be judged; an `iat` in the far past makes
    // the difference huge, which is right: such a token was minted to last that long.
    if claims.exp.saturating_sub(claims.iat.unwrap_or(now)) > max_lifetime {
        return Err(AuthError::TooLong);
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
#[path = "auth_tests.rs"]
mod tests;
