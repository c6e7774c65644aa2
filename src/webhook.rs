//! Webhook rules, pure: which URLs a task may call back (public `https` hosts only, so the
//! studio cannot be turned against private networks) and how each delivery is signed.
//!
//! Signature (Stripe-style, so receivers know the pattern): header
//! `Stellar-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, "<t>.<body>")>`.
//! The receiver recomputes it over the raw body and refuses old timestamps (replays).

use hmac::Mac;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use thiserror::Error;
use worker::Url;

pub const SIGNATURE_HEADER: &str = "stellar-signature";
pub const EVENT_HEADER: &str = "stellar-event";
pub const DELIVERY_HEADER: &str = "stellar-delivery";
const MAX_URL: usize = 2048;

/// Why a webhook URL is refused, worded to follow "webhook: " in the client's message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WebhookUrlError {
    #[error("must be at most {MAX_URL} characters")]
    TooLong,
    #[error("is not a URL ({0})")]
    NotUrl(url::ParseError),
    #[error("must not carry credentials")]
    Credentials,
    #[error("must be an https URL")]
    NotHttps,
    #[error("must point to a public host (no loopback, private, link-local or internal names)")]
    NotPublic,
}

/// Validates a webhook URL; the error names what is wrong.
pub fn validate_url(raw: &str, allow_loopback: bool) -> Result<Url, WebhookUrlError> {
    // Characters, as the published schema's `maxLength` counts them (not bytes).
    if raw.chars().count() > MAX_URL {
        return Err(WebhookUrlError::TooLong);
    }
    let url = Url::parse(raw).map_err(WebhookUrlError::NotUrl)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(WebhookUrlError::Credentials);
    }
    let loopback = is_loopback_host(&url);
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback && loopback => {}
        _ => return Err(WebhookUrlError::NotHttps),
    }
    if loopback && allow_loopback {
        return Ok(url);
    }
    match url.host() {
        Some(url::Host::Domain(d)) if is_public_name(d) => Ok(url),
        Some(url::Host::Ipv4(ip)) if is_public_v4(ip) => Ok(url),
        Some(url::Host::Ipv6(ip)) if is_public_v6(ip) => Ok(url),
        _ => Err(WebhookUrlError::NotPublic),
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
    let [a, b, c, _] = ip.octets();
    let cgnat = a == 100 && (64..128).contains(&b);
    // 192.0.0.0/24: IETF protocol assignments; 198.18.0.0/15: benchmarking. Neither hosts receivers.
    let special = (a, b, c) == (192, 0, 0) || (a == 198 && (b & 0xfe) == 18);
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || cgnat
        || special
        || a == 0
        || a >= 240)
}

/// IPv6 is judged by an allowlist: only global unicast (`2000::/3`) can be public, which alone
/// refuses loopback, unspecified, the deprecated IPv4-compatible `::/96` (nothing legitimate
/// uses it), discard `100::/64`, local-use NAT64 `64:ff9b:1::/48` (a site's own translator),
/// unique-local `fc00::/7`, link- and site-local `fe80::/10`, `fec0::/10` and multicast.
/// Forms that carry an IPv4 address are judged by that address, since that is where the packet
/// ends up: v4-mapped `::ffff:0:0/96`, NAT64 `64:ff9b::/96` (RFC 6052) and 6to4 `2002::/16`.
/// A public embedded address is allowed (it is no more reachable than the address itself); a
/// private one would let a gateway near the studio forward the request inside a network.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(v4_from(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return is_public_v4(v4_from(s[1], s[2]));
    }
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    // 2001::/23: IETF special purpose (Teredo, whose v4 is obfuscated, benchmarking, ORCHID...);
    // 2001:db8::/32 and 3fff::/20: documentation.
    let special = (s[0] == 0x2001 && (s[1] < 0x200 || s[1] == 0xdb8)) || (s[0] == 0x3fff && s[1] < 0x1000);
    global_unicast && !special
}

fn v4_from(high: u16, low: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))
}

/// The `Stellar-Signature` header value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac = crate::signing::keyed(secret);
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
    fn each_refusal_says_what_is_wrong() {
        assert_eq!(validate_url("http://hooks.example.com/x", false), Err(WebhookUrlError::NotHttps));
        assert_eq!(validate_url("https://u:p@hooks.example.com/", false), Err(WebhookUrlError::Credentials));
        assert_eq!(validate_url("https://10.0.0.1/", false), Err(WebhookUrlError::NotPublic));
        assert_eq!(validate_url(&format!("https://a.example/{}", "x".repeat(MAX_URL)), false), Err(WebhookUrlError::TooLong));
        assert_eq!(validate_url("nope", false).map_err(|e| e.to_string()), Err("is not a URL (relative URL without a base)".into()));
    }

    #[test]
    fn loopback_is_allowed_only_when_the_dev_flag_says_so() {
        assert!(validate_url("http://127.0.0.1:9999/hook", true).is_ok());
        assert!(validate_url("http://localhost:9999/hook", true).is_ok());
        assert!(validate_url("http://10.0.0.1/hook", true).is_err(), "private is still refused");
        assert!(validate_url("http://127.0.0.1:9999/hook", false).is_err());
    }

    fn refused(host: &str) -> bool {
        validate_url(&format!("https://{host}/hook"), false).is_err()
    }

    #[test]
    fn numeric_shorthands_of_private_v4_are_refused() {
        for host in ["0x7f000001", "2130706433", "0177.0.0.1", "10.1", "192.0.0.8", "198.18.0.1"] {
            assert!(refused(host), "{host}");
        }
    }

    #[test]
    fn v4_mapped_v6_is_judged_by_its_v4() {
        assert!(refused("[::ffff:127.0.0.1]") && refused("[::ffff:169.254.169.254]") && refused("[::ffff:192.168.1.1]"));
        assert!(!refused("[::ffff:93.184.216.34]"));
    }

    #[test]
    fn v4_compatible_v6_is_refused_whatever_it_embeds() {
        for host in ["[::10.0.0.1]", "[::127.0.0.1]", "[::93.184.216.34]", "[::]", "[::2]"] {
            assert!(refused(host), "{host}");
        }
    }

    #[test]
    fn nat64_is_refused_when_its_embedded_v4_is_not_public() {
        for host in ["[64:ff9b::10.0.0.1]", "[64:ff9b::127.0.0.1]", "[64:ff9b::a9fe:a9fe]", "[64:ff9b::100.64.0.1]", "[64:ff9b::]"] {
            assert!(refused(host), "{host}");
        }
        assert!(!refused("[64:ff9b::93.184.216.34]"), "a public v4 behind NAT64 is as public as itself");
        assert!(refused("[64:ff9b:1::93.184.216.34]"), "local-use NAT64 is a site's own translator");
    }

    #[test]
    fn six_to_four_is_refused_when_its_embedded_v4_is_not_public() {
        for host in ["[2002:0a00:0001::1]", "[2002:7f00:1::]", "[2002:c0a8:0101::1]", "[2002:a9fe:a9fe::1]"] {
            assert!(refused(host), "{host}");
        }
        assert!(!refused("[2002:5db8:d822::1]"), "6to4 of 93.184.216.34");
    }

    #[test]
    fn local_and_special_v6_ranges_are_refused() {
        let hosts = [
            "[::1]",          // loopback
            "[fc00::1]",      // unique-local
            "[fdff:ffff::1]", // unique-local
            "[fe80::1]",      // link-local
            "[febf::1]",      // link-local, end of the /10
            "[fec0::1]",      // site-local (deprecated)
            "[ff02::1]",      // multicast
            "[ff0e::1]",      // global multicast
            "[100::1]",       // discard-only
            "[2001:db8::1]",  // documentation
            "[3fff::1]",      // documentation (RFC 9637)
            "[2001::1]",      // Teredo
            "[2001:2::1]",    // benchmarking
        ];
        for host in hosts {
            assert!(refused(host), "{host}");
        }
    }

    #[test]
    fn global_unicast_v6_is_accepted() {
        for host in ["[2606:4700::1111]", "[2a00:1450:4001::1]", "[2001:200::1]", "[3ffe::1]"] {
            assert!(!refused(host), "{host}");
        }
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
