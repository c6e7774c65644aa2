//! Webhook rules, pure: which URLs a task may call back (public `https` hosts only, so the
//! studio cannot be turned against private networks) and how each delivery is signed.
//!
//! Signature (Stripe-style, so receivers know the pattern): header
//! `Stellar-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, "<t>.<body>")>`.
//! The receiver recomputes it over the raw body and refuses old timestamps (replays).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use worker::Url;

pub const SIGNATURE_HEADER: &str = "stellar-signature";
pub const EVENT_HEADER: &str = "stellar-event";
pub const DELIVERY_HEADER: &str = "stellar-delivery";
const MAX_URL: usize = 2048;

/// Validates a webhook URL; the error names what is wrong.
pub fn validate_url(raw: &str, allow_loopback: bool) -> Result<Url, String> {
    if raw.len() > MAX_URL {
        return Err(format!("must be at most {MAX_URL} characters"));
    }
    let url = Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    let loopback = is_loopback_host(&url);
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback && loopback => {}
        _ => return Err("must be an https URL".into()),
    }
    if loopback && allow_loopback {
        return Ok(url);
    }
    match url.host() {
        Some(url::Host::Domain(d)) if is_public_name(d) => Ok(url),
        Some(url::Host::Ipv4(ip)) if is_public_v4(ip) => Ok(url),
        Some(url::Host::Ipv6(ip)) if is_public_v6(ip) => Ok(url),
        _ => Err("must point to a public host (no loopback, private, link-local or internal names)".into()),
    }
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn is_public_name(d: &str) -> bool {
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    let internal = [".localhost", ".local", ".internal", ".home.arpa", ".lan", ".corp", ".intranet"];
    d.contains('.') && d != "localhost" && !internal.iter().any(|s| d.ends_with(s)) && d.parse::<IpAddr>().is_err()
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let cgnat = a == 100 && (64..128).contains(&b);
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || cgnat
        || a == 0
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let first = ip.segments()[0];
    let unique_local = (first & 0xfe00) == 0xfc00;
    let link_local = (first & 0xffc0) == 0xfe80;
    !(ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() || unique_local || link_local)
}

/// The `Stellar-Signature` header value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_https_urls_are_accepted() {
        for ok in ["https://hooks.example.com/x?y=1", "https://93.184.216.34:8443/hook", "https://[2606:2800:220:1::1]/h"] {
            assert!(validate_url(ok, false).is_ok(), "{ok}");
        }
    }

    #[test]
    fn private_loopback_and_plain_http_urls_are_refused() {
        let bad = [
            "http://hooks.example.com/x",
            "https://localhost/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://192.168.0.1/x",
            "https://169.254.169.254/latest",
            "https://100.64.0.1/",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://db.internal/x",
            "https://printer.local/x",
            "https://intranet/x",
            "https://user:pw@hooks.example.com/",
            "ftp://hooks.example.com/",
            "not a url",
        ];
        for url in bad {
            assert!(validate_url(url, false).is_err(), "{url} must be refused");
        }
    }

    #[test]
    fn loopback_is_allowed_only_when_the_dev_flag_says_so() {
        assert!(validate_url("http://127.0.0.1:9999/hook", true).is_ok());
        assert!(validate_url("http://localhost:9999/hook", true).is_ok());
        assert!(validate_url("http://10.0.0.1/hook", true).is_err(), "private is still refused");
        assert!(validate_url("http://127.0.0.1:9999/hook", false).is_err());
    }

    #[test]
    fn the_signature_covers_timestamp_and_body() {
        let s = sign(b"k", 1_700_000_000, "{}");
        assert!(s.starts_with("t=1700000000,v1=") && s.len() == "t=1700000000,v1=".len() + 64);
        assert_ne!(s, sign(b"k", 1_700_000_001, "{}"));
        assert_ne!(s, sign(b"k", 1_700_000_000, "{ }"));
        assert_ne!(s, sign(b"other", 1_700_000_000, "{}"));
    }
}
