//! Credentials built independently of the server's code (so the tests check the contract, not
//! the implementation against itself): JWTs with any header and claims, and signed links.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::time::{SystemTime, UNIX_EPOCH};

fn hmac(secret: &[u8], message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs() as i64
}

/// A JWT with this header and these claims, HMAC-SHA256-signed with `secret`.
pub fn jwt(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = hmac(secret, &signing_input);
    format!("{signing_input}.{signature}")
}

/// The query of a signed link as the contract defines it: `exp`, `sub` and
/// `sig` = base64url HMAC-SHA256 over "stellar-link", method, path, tenant and exp, one per line.
pub fn link_query(secret: &[u8], method: &str, path: &str, tenant: &str, exp: i64) -> String {
    let sig = hmac(secret, &format!("stellar-link\n{method}\n{path}\n{tenant}\n{exp}"));
    format!("exp={exp}&sub={tenant}&sig={sig}")
}
