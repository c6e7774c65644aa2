//! Render URLs' format negotiation: one URL answers the best format each client's `Accept`
//! takes (AVIF, WebP, JPEG or PNG), with `Vary: Accept` and distinct validators, and an
//! explicit `format` is never negotiated.

use crate::render::{header, id_of, render};
use crate::support::*;
use reqwest::header::{CONTENT_TYPE, ETAG, VARY};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread")]
async fn the_same_url_answers_the_best_format_each_client_accepts() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let photo = id_of(&app.upload_ok(&alice, jpeg_fixture(320, 240), "image/jpeg").await);
    let graphic = id_of(&app.upload_ok(&alice, png_fixture(320, 240), "image/png").await);
    let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
    let cases = [
        (&photo, Some(chrome), "image/avif"),
        (&photo, Some("image/webp,image/*"), "image/webp"),
        (&photo, Some("image/webp;q=0,image/*"), "image/jpeg"),
        (&photo, None, "image/jpeg"),
        (&graphic, Some(chrome), "image/avif"),
        (&graphic, Some("image/png,image/*"), "image/png"),
    ];
    let mut etags = Vec::new();
    for (image, accept, expected) in cases {
        let (status, headers, body) = render(&app, Some(&alice), &format!("/images/{image}/render?w=80"), accept).await;
        assert_eq!((status, header(&headers, CONTENT_TYPE).as_str()), (StatusCode::OK, expected), "{accept:?}");
        assert!(header(&headers, VARY).contains("Accept"));
        let magic_ok = match expected {
            "image/webp" => body.starts_with(b"RIFF") && &body[8..12] == b"WEBP",
            "image/avif" => body.get(4..12) == Some(b"ftypavif"),
            "image/png" => body.starts_with(b"\x89PNG"),
            _ => body.starts_with(&[0xFF, 0xD8]),
        };
        assert!(magic_ok, "{expected}: the bytes are what Content-Type says");
        etags.push(header(&headers, ETAG));
    }
    assert_ne!(etags[0], etags[1], "an AVIF and a WebP rendition have different validators");
    assert_ne!(etags[1], etags[3], "a WebP and a JPEG rendition have different validators");
    // An explicit format is not negotiated.
    let (_, headers, _) = render(&app, Some(&alice), &format!("/images/{photo}/render?w=80&format=png"), Some(chrome)).await;
    assert_eq!(header(&headers, CONTENT_TYPE), "image/png");
    assert!(!header(&headers, VARY).contains("Accept"), "{:?}", headers.get(VARY));
}

#[tokio::test(flavor = "multi_thread")]
async fn avif_is_negotiated_for_small_renditions_and_large_ones_fall_back() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let photo = id_of(&app.upload_ok(&alice, jpeg_fixture(1200, 900), "image/jpeg").await);
    let browser = "image/avif,image/webp,*/*";
    // 256×192 is well under the AVIF bound (0.5 MP); 1000×750 is over it.
    let cases = [
        ("w=256", browser, "image/avif"),
        ("w=1000", browser, "image/webp"),
        ("w=1000", "image/avif,*/*", "image/jpeg"),
        ("w=1000&format=avif", "image/jpeg", "image/avif"),
    ];
    for (options, accept, expected) in cases {
        let (status, headers, body) = render(&app, Some(&alice), &format!("/images/{photo}/render?{options}"), Some(accept)).await;
        assert_eq!((status, header(&headers, CONTENT_TYPE).as_str()), (StatusCode::OK, expected), "{options} for {accept}");
        if expected == "image/avif" {
            assert_eq!(body.get(4..12), Some(&b"ftypavif"[..]), "{options}");
        }
        let negotiated = !options.contains("format=");
        assert_eq!(header(&headers, VARY).contains("Accept"), negotiated, "{options}");
    }
}
