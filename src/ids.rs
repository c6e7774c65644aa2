//! Validated identifiers: opaque, prefixed ids for images and tasks, and tenant names.
//!
//! Anything that reaches storage keys or Durable Object names passes through `parse` first, so a
//! malformed id from a URL is a plain 404 and can never address something else.

use std::fmt;
use thiserror::Error;

/// Why an id could not be had. At the HTTP edge a malformed id is a plain 404 (it names
/// nothing), a failed generation a 500.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum IdError {
    #[error("malformed {kind} id")]
    Malformed { kind: &'static str },
    #[error("no randomness for a new id: {0}")]
    NoRandomness(String),
}

/// 128 random bits as lowercase hex.
fn random_hex() -> Result<String, IdError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| IdError::NoRandomness(e.to_string()))?;
    Ok(hex::encode(bytes))
}

fn is_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

macro_rules! prefixed_id {
    ($name:ident, $prefix:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> Result<Self, IdError> {
                Ok($name(format!("{}{}", $prefix, random_hex()?)))
            }

            /// Accepts only well-formed ids; anything else is "not found" to the caller.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                if is_id(s, $prefix) {
                    Ok($name(s.to_string()))
                } else {
                    Err(IdError::Malformed { kind: $prefix.trim_end_matches('_') })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $name::parse(&s).map_err(|_| format!("malformed id {s:?}"))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(ImageId, "img_");
prefixed_id!(TaskId, "task_");

impl TaskId {
    /// The task id an `Idempotency-Key` stands for: HMAC(secret, tenant, key), so the same key
    /// of the same tenant always reaches the same task object (which settles races for us),
    /// and nobody without the secret can predict or collide with another tenant's ids.
    pub fn for_idempotency_key(secret: &[u8], tenant: &TenantId, key: &str) -> TaskId {
        use hmac::Mac;
        let mut mac = crate::signing::keyed(secret);
        mac.update(format!("idempotency\0{tenant}\0{key}").as_bytes());
        TaskId(format!("{}{}", TaskId::PREFIX, hex::encode(&mac.finalize().into_bytes()[..16])))
    }
}

/// A tenant (the token's `sub`): 1–64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(s: &str) -> Option<TenantId> {
        let ok = (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        ok.then(|| TenantId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back() {
        let id = ImageId::generate().expect("random");
        assert_eq!(ImageId::parse(id.as_str()).expect("valid"), id);
        assert!(TaskId::parse(id.as_str()).is_err(), "an image id is not a task id");
    }

    #[test]
    fn ids_that_could_escape_a_key_are_refused() {
        for bad in ["img_", "img_../../x", "img_ABCDEF0123456789abcdef0123456789", "task_1"] {
            assert!(ImageId::parse(bad).is_err() && TaskId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn idempotency_ids_are_stable_per_tenant_and_key() {
        let (alice, bob) = (TenantId::parse("alice").expect("t"), TenantId::parse("bob").expect("t"));
        let id = TaskId::for_idempotency_key(b"secret", &alice, "k1");
        assert!(TaskId::parse(id.as_str()).is_ok());
        assert_eq!(id, TaskId::for_idempotency_key(b"secret", &alice, "k1"));
        assert_ne!(id, TaskId::for_idempotency_key(b"secret", &bob, "k1"));
        assert_ne!(id, TaskId::for_idempotency_key(b"secret", &alice, "k2"));
        assert_ne!(id, TaskId::for_idempotency_key(b"other", &alice, "k1"));
    }

    #[test]
    fn tenant_names_follow_the_contract() {
        assert!(TenantId::parse("alice_01-x").is_some());
        assert!(TenantId::parse("").is_none());
        assert!(TenantId::parse(&"a".repeat(65)).is_none());
        assert!(TenantId::parse("a/b").is_none());
    }
}
