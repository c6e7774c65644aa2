//! Signed links: short-lived URLs for what a browser cannot put an `Authorization` header on
//! (a WebSocket, an `EventSource`, an `<a download>`).
//!
//! A link carries `exp`, `sub` (the tenant) and `sig` = base64url HMAC-SHA256 over the method,
//! the path, the tenant and `exp`, so it grants exactly one resource to one tenant until it
//! expires. Query parameters other than these three (`since`) are not signed: they select
//! within the granted resource. Verification accepts the previous secret too, so links minted
//! before a key rotation keep working until they expire.

use crate::ids::TenantId;
use crate::signing::HmacSha256;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;
use thiserror::Error;

/// Why a signed link was refused; every message is safe to show the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum LinkError {
    #[error("a signed link needs exp (unix seconds), sub and sig")]
    Incomplete,
    #[error("the link signature is malformed")]
    MalformedSignature,
    #[error("the link signature does not match this resource")]
    WrongResource,
    #[error("the link has expired")]
    Expired,
    #[error("the link subject is not a valid tenant id")]
    BadSubject,
}

/// The query parameters of a signed link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkParams {
    pub exp: i64,
    pub sub: String,
    pub sig: String,
}

impl LinkParams {
    /// The link parameters of a query, if it has a `sig` (then `exp` and `sub` are required).
    /// `Err` when one of them is missing or `exp` is not a number.
    pub fn from_query<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Option<Result<LinkParams, LinkError>> {
        let (mut exp, mut sub, mut sig) = (None, None, None);
        for (k, v) in pairs {
            match k {
                "exp" => exp = Some(v),
                "sub" => sub = Some(v),
                "sig" => sig = Some(v),
                _ => {}
            }
        }
        let sig = sig?;
        let parsed = match (exp.and_then(|e| e.parse::<i64>().ok()), sub) {
            (Some(exp), Some(sub)) => Ok(LinkParams { exp, sub: sub.to_string(), sig: sig.to_string() }),
            _ => Err(LinkError::Incomplete),
        };
        Some(parsed)
    }
}

fn mac(secret: &[u8], method: &str, path: &str, tenant: &str, exp: i64) -> HmacSha256 {
    let mut mac = crate::signing::keyed(secret);
    // Newlines cannot occur in a method, a path, a tenant id or a number: the fields cannot blur.
    mac.update(format!("stellar-link\n{method}\n{path}\n{tenant}\n{exp}").as_bytes());
    mac
}

/// The query string (`exp=…&sub=…&sig=…`) granting `method path` to `tenant` until `exp`.
pub fn sign(secret: &[u8], method: &str, path: &str, tenant: &TenantId, exp: i64) -> String {
    let sig = URL_SAFE_NO_PAD.encode(mac(secret, method, path, tenant.as_str(), exp).finalize().into_bytes());
    format!("exp={exp}&sub={tenant}&sig={sig}")
}

/// Checks a link for `method path` at `now` against the current secret, then the previous
/// one; returns the tenant it grants or why it is refused.
pub fn verify(params: &LinkParams, method: &str, path: &str, secrets: &[&[u8]], now: i64) -> Result<TenantId, LinkError> {
    let signature = URL_SAFE_NO_PAD.decode(&params.sig).map_err(|_| LinkError::MalformedSignature)?;
    // Constant-time comparison is done by `verify_slice`.
    let valid = secrets.iter().any(|s| mac(s, method, path, &params.sub, params.exp).verify_slice(&signature).is_ok());
    if !valid {
        return Err(LinkError::WrongResource);
    }
    if params.exp < now {
        return Err(LinkError::Expired);
    }
    TenantId::parse(&params.sub).ok_or(LinkError::BadSubject)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const OLD: &[u8] = b"fedcba9876543210fedcba9876543210";
    const NOW: i64 = 1_800_000_000;

    fn params(query: &str) -> LinkParams {
        let pairs: Vec<(&str, &str)> = query.split('&').filter_map(|kv| kv.split_once('=')).collect();
        LinkParams::from_query(pairs.into_iter()).expect("has sig").expect("well formed")
    }

    fn alice() -> TenantId {
        TenantId::parse("alice").expect("tenant")
    }

    #[test]
    fn a_link_grants_its_resource_to_its_tenant() {
        let q = sign(KEY, "GET", "/tasks/task_1/ws", &alice(), NOW + 60);
        assert_eq!(verify(&params(&q), "GET", "/tasks/task_1/ws", &[KEY], NOW), Ok(alice()));
    }

    #[test]
    fn a_link_grants_nothing_else() {
        let p = params(&sign(KEY, "GET", "/tasks/task_1/ws", &alice(), NOW + 60));
        let wrong = Err(LinkError::WrongResource);
        assert_eq!(verify(&p, "GET", "/tasks/task_2/ws", &[KEY], NOW), wrong, "another path");
        assert_eq!(verify(&p, "POST", "/tasks/task_1/ws", &[KEY], NOW), wrong, "another method");
        let other_tenant = LinkParams { sub: "bob".into(), ..p.clone() };
        assert_eq!(verify(&other_tenant, "GET", "/tasks/task_1/ws", &[KEY], NOW), wrong, "another tenant");
        let later = LinkParams { exp: p.exp + 3600, ..p };
        assert_eq!(verify(&later, "GET", "/tasks/task_1/ws", &[KEY], NOW), wrong, "an extended expiry");
    }

    #[test]
    fn an_expired_link_is_refused() {
        let p = params(&sign(KEY, "GET", "/x", &alice(), NOW - 1));
        assert_eq!(verify(&p, "GET", "/x", &[KEY], NOW), Err(LinkError::Expired));
    }

    #[test]
    fn links_signed_with_the_previous_key_verify_during_rotation() {
        let p = params(&sign(OLD, "GET", "/x", &alice(), NOW + 60));
        assert!(verify(&p, "GET", "/x", &[KEY], NOW).is_err(), "not without the old key");
        assert_eq!(verify(&p, "GET", "/x", &[KEY, OLD], NOW), Ok(alice()));
    }

    #[test]
    fn queries_without_sig_are_not_links_and_incomplete_ones_are_malformed() {
        assert!(LinkParams::from_query([("since", "3")].into_iter()).is_none());
        let incomplete = LinkParams::from_query([("sig", "x"), ("sub", "alice")].into_iter()).expect("has sig");
        assert_eq!(incomplete, Err(LinkError::Incomplete));
    }
}
