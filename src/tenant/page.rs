//! Keyset pagination: a listing query (`limit`, an opaque `cursor`, a task `status`) and the
//! page it returns.
//!
//! A cursor is the position of the last item returned; the next page is "older than that",
//! so items inserted meanwhile (always newer) can neither shift nor repeat what follows.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
const CURSOR_PREFIX: &str = "v1:";
/// The longest cursor [`encode_cursor`] makes (`v1:` and `i64::MAX`'s 19 digits, base64url
/// without padding); anything longer is refused before it is decoded. `public/openapi.json`
/// documents it (`components.parameters.Cursor`).
pub const MAX_CURSOR_LEN: usize = 30;

/// The task statuses a listing may filter by (the task object's `status` values).
pub const STATUSES: [&str; 5] = ["queued", "running", "succeeded", "failed", "cancelled"];

/// A listing query the studio refuses; the message names the field (the HTTP edge answers 400).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    #[error("limit: must be an integer from 1 to {MAX_LIMIT}")]
    Limit,
    #[error("cursor: not a cursor from a previous page's next_cursor")]
    Cursor,
    #[error("status: must be one of {}", STATUSES.join(", "))]
    Status,
}

/// A validated listing request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    pub limit: u32,
    /// Only items strictly older than this position.
    pub before: Option<i64>,
    pub status: Option<String>,
}

impl ListQuery {
    /// Parses `limit`, `cursor` and (when `with_status`) `status`; errors name the field.
    pub fn parse(pairs: &[(String, String)], with_status: bool) -> Result<ListQuery, QueryError> {
        let mut query = ListQuery { limit: DEFAULT_LIMIT, before: None, status: None };
        for (key, value) in pairs {
            let value = value.as_str();
            match key.as_str() {
                "limit" => query.limit = value.parse().ok().filter(|l| (1..=MAX_LIMIT).contains(l)).ok_or(QueryError::Limit)?,
                "cursor" if !value.is_empty() => query.before = Some(decode_cursor(value)?),
                "status" if with_status => {
                    if !STATUSES.contains(&value) {
                        return Err(QueryError::Status);
                    }
                    query.status = Some(value.to_string());
                }
                _ => {}
            }
        }
        Ok(query)
    }
}

/// One page as the index answers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page {
    pub items: Vec<Value>,
    /// Position of the last item when more follow.
    pub next: Option<i64>,
}

impl Page {
    /// The contract's `{"items": [...], "next_cursor": "…" | null}`.
    pub fn into_json(self) -> Value {
        serde_json::json!({"items": self.items, "next_cursor": self.next.map(encode_cursor)})
    }
}

pub fn encode_cursor(position: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{position}"))
}

fn decode_cursor(cursor: &str) -> Result<i64, QueryError> {
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(QueryError::Cursor);
    }
    let text = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| QueryError::Cursor)?;
    let text = std::str::from_utf8(&text).map_err(|_| QueryError::Cursor)?;
    text.strip_prefix(CURSOR_PREFIX).and_then(|n| n.parse::<i64>().ok()).filter(|n| *n > 0).ok_or(QueryError::Cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)], with_status: bool) -> Result<ListQuery, QueryError> {
        let owned: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ListQuery::parse(&owned, with_status)
    }

    #[test]
    fn defaults_to_the_newest_twenty() {
        assert_eq!(parse(&[], true).expect("valid"), ListQuery { limit: 20, before: None, status: None });
    }

    #[test]
    fn cursors_round_trip_and_are_opaque() {
        let c = encode_cursor(4242);
        assert!(!c.contains("4242"));
        assert_eq!(parse(&[("cursor", &c)], false).expect("valid").before, Some(4242));
    }

    /// The form `public/openapi.json` gives the `cursor` parameter is the one read here.
    #[test]
    fn cursors_have_the_documented_form_and_length() {
        let doc: Value = serde_json::from_str(include_str!("../../public/openapi.json")).expect("openapi.json parses");
        let schema = &doc["components"]["parameters"]["Cursor"]["schema"];
        assert_eq!((schema["pattern"].as_str(), schema["maxLength"].as_u64()), (Some("^[A-Za-z0-9_-]*$"), Some(MAX_CURSOR_LEN as u64)));
        for position in [1, 4242, i64::MAX] {
            let c = encode_cursor(position);
            assert!(c.len() <= MAX_CURSOR_LEN && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'), "{c}");
        }
        assert_eq!(encode_cursor(i64::MAX).len(), MAX_CURSOR_LEN);
    }

    #[test]
    fn a_cursor_longer_than_any_issued_is_refused_even_if_it_decodes() {
        let padded = URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{:0>40}", 7));
        assert_eq!(parse(&[("cursor", &padded)], false), Err(QueryError::Cursor));
    }

    #[test]
    fn bad_fields_are_named() {
        for (pairs, field) in [
            (vec![("limit", "0")], "limit"),
            (vec![("limit", "101")], "limit"),
            (vec![("limit", "ten")], "limit"),
            (vec![("cursor", "not-a-cursor")], "cursor"),
            (vec![("status", "done")], "status"),
        ] {
            let err = parse(&pairs, true).expect_err("invalid");
            assert!(err.to_string().starts_with(field), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn status_is_ignored_where_it_does_not_apply() {
        assert_eq!(parse(&[("status", "done")], false).expect("valid").status, None);
    }
}
