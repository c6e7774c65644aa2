//! Wall-clock time from the JS runtime (the Rust `std` clock is unavailable on wasm32).

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> u64 {
    js_sys::Date::now() as u64
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// RFC 3339 UTC timestamp with milliseconds, e.g. `2026-11-23T10:00:00.000Z`.
pub fn now_iso() -> String {
    String::from(js_sys::Date::new_0().to_iso_string())
}
