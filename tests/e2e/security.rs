//! Security and tenancy: cross-tenant probes, strict tokens with key rotation, signed links,
//! CORS, rate limits and the upload size limit.

use crate::support::*;
use functions::registry::{ENCODE, GRAYSCALE, WATERMARK};
use futures_util::stream;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Error as WsError;

const ALLOWED: &str = "https://studio.example";

/// Alice's finished task over one image; returns (image id, task object).
async fn finished_task(app: &TestApp, token: &str) -> (String, Value) {
    let image = app.upload_png(token, "mine.png", 24, 24).await;
    let task = app.run_chain(token, &image, json!([{"op": GRAYSCALE}, {"op": ENCODE, "format": "png"}])).await;
    let task = app.wait_for_task(token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    assert_eq!(task["status"], "succeeded", "{task}");
    (image, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_answers_404_to_another_tenants_ids_and_listings_stay_separate() {
    let app = TestApp::spawn().await;
    let (alice, mallory) = (app.token("alice"), app.token("mallory"));
    let (image, task) = finished_task(&app, &alice).await;
    let task_id = task["id"].as_str().expect("id");

    let probes = [
        (Method::GET, format!("/images/{image}")),
        (Method::GET, format!("/images/{image}/content")),
        (Method::DELETE, format!("/images/{image}")),
        (Method::GET, format!("/tasks/{task_id}")),
        (Method::POST, format!("/tasks/{task_id}/cancel")),
        (Method::GET, format!("/tasks/{task_id}/download")),
    ];
    for (method, path) in probes {
        let resp = send(app.request(method.clone(), &path, Some(&mallory))).await;
        assert_error(resp, StatusCode::NOT_FOUND, "not_found").await;
    }
    for body in [
        json!({"images": [image], "steps": [{"op": GRAYSCALE}]}),
        json!({"images": [app.upload_png(&mallory, "own.png", 8, 8).await], "steps": [{"op": WATERMARK, "image": image}]}),
    ] {
        assert_error(app.create_task(&mallory, &body).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    match app.try_ws(&mallory, task_id, None).await {
        Err(WsError::Http(resp)) => assert_eq!(resp.status(), 404),
        other => panic!("mallory's upgrade to alice's task must be refused with 404, got {:?}", other.map(|_| "a socket")),
    }
    // Alice's link does not become mallory's by editing `sub`.
    let link = task["links"]["download"].as_str().expect("download link").replace("sub=alice", "sub=mallory");
    assert_error(send(app.http.get(link)).await, StatusCode::UNAUTHORIZED, "unauthorized").await;

    for listing in ["/images", "/tasks"] {
        let page = json_body(app.get(Some(&mallory), listing).await, StatusCode::OK).await;
        let ids: Vec<&str> = page["items"].as_array().expect("items").iter().filter_map(|i| i["id"].as_str()).collect();
        assert!(!ids.contains(&image.as_str()) && !ids.contains(&task_id), "{listing} of mallory shows alice's items: {ids:?}");
    }
    // After all that probing, alice's things are intact.
    json_body(app.get(Some(&alice), &format!("/images/{image}")).await, StatusCode::OK).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_expired_unsigned_and_wrong_key_tokens_get_401_while_the_previous_key_still_works() {
    let previous = "an-older-key-being-rotated-out-0123456789";
    let app = TestApp::spawn_with(&[("AUTH_SECRET_PREVIOUS", previous)]).await;
    let now = unix_now();
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let valid = json!({"sub": "alice", "exp": now + 600});
    let forged = {
        let token = jwt(&hs256, &valid, app.secret());
        let claims = base64_url(&json!({"sub": "root", "exp": now + 600}).to_string());
        let parts: Vec<&str> = token.split('.').collect();
        format!("{}.{claims}.{}", parts[0], parts[2])
    };
    let unsigned = {
        let token = jwt(&json!({"alg": "none", "typ": "JWT"}), &valid, b"");
        format!("{}.", token.rsplit_once('.').expect("three parts").0)
    };
    let refused = [
        ("claims edited after signing", forged),
        ("expired an hour ago", jwt(&hs256, &json!({"sub": "alice", "exp": now - 3600}), app.secret())),
        ("alg none, no signature", unsigned),
        ("alg none, signed anyway", jwt(&json!({"alg": "none"}), &valid, app.secret())),
        ("HS512 header", jwt(&json!({"alg": "HS512"}), &valid, app.secret())),
        ("wrong key", jwt(&hs256, &valid, b"some-other-key-some-other-key-0123")),
        ("no exp", jwt(&hs256, &json!({"sub": "alice"}), app.secret())),
        ("not yet valid", jwt(&hs256, &json!({"sub": "alice", "exp": now + 7200, "nbf": now + 3600}), app.secret())),
        ("bad subject", jwt(&hs256, &json!({"sub": "../bob", "exp": now + 600}), app.secret())),
    ];
    for (why, token) in refused {
        let resp = app.get(Some(&token), "/images").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{why}");
        assert_error(resp, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    for (why, secret) in [("current key", app.secret()), ("previous key", previous.as_bytes())] {
        let resp = app.get(Some(&jwt(&hs256, &valid, secret)), "/images").await;
        assert_eq!(resp.status(), StatusCode::OK, "a token signed with the {why} is accepted");
    }
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_links_work_without_a_header_and_tampered_or_expired_ones_get_401() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let (_, task) = finished_task(&app, &alice).await;
    let task_id = task["id"].as_str().expect("id");
    let download = task["links"]["download"].as_str().expect("download link");
    assert!(download.contains("exp=") && download.contains("sig="), "{download}");

    let resp = send(app.http.get(download)).await;
    assert_eq!(resp.status(), StatusCode::OK, "the link alone downloads");
    assert!(resp.bytes().await.expect("body").starts_with(PNG_SIGNATURE));

    let ws_link = task["links"]["ws"].as_str().expect("ws link");
    let (socket, _) = tokio_tungstenite::connect_async(ws_link).await.expect("the ws link upgrades without a header");
    let (events, close) = collect_events(socket, TASK_DEADLINE).await;
    assert_eq!((events.last().map(|e| e["type"].clone()), close), (Some(json!("task.succeeded")), Some(NORMAL_CLOSURE)));

    let path = format!("/tasks/{task_id}/download");
    let tampered = [
        download.replacen("sig=", "sig=x", 1),
        download.replace(&format!("exp={}", link_exp(download)), &format!("exp={}", link_exp(download) + 3600)),
        download.replace("/download", "/ws"),
        app.url(&format!("{path}?{}", link_query(app.secret(), "GET", &path, "alice", unix_now() - 1))),
        app.url(&format!("{path}?{}", link_query(b"not-the-key-not-the-key-not-the-key", "GET", &path, "alice", unix_now() + 60))),
        app.url(&format!("{path}?exp={}&sig=abc", unix_now() + 60)),
    ];
    for link in tampered {
        assert_error(send(app.http.get(&link)).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    // A link minted by the contract's rule (independently of the server) is honoured.
    let fresh = app.url(&format!("{path}?{}", link_query(app.secret(), "GET", &path, "alice", unix_now() + 60)));
    assert_eq!(send(app.http.get(&fresh)).await.status(), StatusCode::OK);
}

fn link_exp(link: &str) -> i64 {
    let exp = link.split(['?', '&']).find_map(|kv| kv.strip_prefix("exp=")).expect("exp in link");
    exp.parse().expect("exp is a number")
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_answers_allowed_origins_only_and_every_answer_has_security_headers() {
    let app = TestApp::spawn_with(&[("ALLOWED_ORIGINS", ALLOWED)]).await;
    let preflight = |origin: &'static str| {
        app.request(Method::OPTIONS, "/tasks", None)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, idempotency-key, content-type")
    };
    let ok = send(preflight(ALLOWED)).await;
    assert!(ok.status().is_success(), "preflight status {}", ok.status());
    let h = ok.headers();
    assert_eq!(h["access-control-allow-origin"], ALLOWED, "echoes the origin, never *");
    assert!(h["access-control-allow-methods"].to_str().expect("ascii").contains("POST"));
    let allowed_headers = h["access-control-allow-headers"].to_str().expect("ascii").to_ascii_lowercase();
    assert!(["authorization", "idempotency-key", "content-type"].iter().all(|x| allowed_headers.contains(x)), "{allowed_headers}");
    assert!(h["access-control-max-age"].to_str().expect("ascii").parse::<u32>().expect("seconds") > 0);
    assert!(h.get("access-control-allow-credentials").is_none());

    let denied = send(preflight("https://evil.example")).await;
    assert!(denied.headers().keys().all(|k| !k.as_str().starts_with("access-control-")), "{:?}", denied.headers());

    let token = app.token("alice");
    let actual = send(app.request(Method::GET, "/images", Some(&token)).header("origin", ALLOWED)).await;
    assert_eq!(actual.headers()["access-control-allow-origin"], ALLOWED);
    let foreign = send(app.request(Method::GET, "/images", Some(&token)).header("origin", "https://evil.example")).await;
    assert!(foreign.headers().get("access-control-allow-origin").is_none());

    for resp in [foreign, app.get(None, "/health").await, app.get(None, "/images").await] {
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert!(h.contains_key("content-security-policy"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_over_the_rate_limit_gets_429_with_retry_after_and_passes_again_after_it() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_PER_MINUTE", "30")]).await;
    let alice = app.token("alice");
    // 30 per minute refills one token every 2 s; a slow run may earn a few extra reads.
    let started = std::time::Instant::now();
    let mut passed = 0;
    let limited = loop {
        let resp = app.get(Some(&alice), "/steps").await;
        if resp.status() != StatusCode::OK {
            break resp;
        }
        passed += 1;
        assert!(passed <= 100, "100 reads passed a 30-per-minute limit");
    };
    let refill = started.elapsed().as_secs_f64() / 2.0;
    assert!(passed >= 30 && f64::from(passed) <= 30.0 + refill + 1.0, "{passed} reads passed in {:?}", started.elapsed());
    let retry_after: u64 = limited.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_error(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    // Another tenant has its own budget; uploads cost more than reads.
    let bob = app.token("bob");
    let mut uploads = 0;
    while app.upload(Some(&bob), png_fixture(4, 4), "image/png").await.status() == StatusCode::CREATED {
        uploads += 1;
        assert!(uploads <= 30, "uploads never hit the limit");
    }
    assert!((1..=10).contains(&uploads), "{uploads} uploads fit in a 30-token budget: they must cost more than a read");

    // Waiting as told is enough.
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    assert_eq!(app.get(Some(&alice), "/steps").await.status(), StatusCode::OK, "passes again after Retry-After");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_upload_gets_413_declared_or_streamed_and_nothing_is_stored() {
    let app = TestApp::spawn_with(&[("MAX_UPLOAD_BYTES", "2000")]).await;
    let alice = app.token("alice");
    let big = png_fixture(400, 400);
    assert!(big.len() > 2_000, "the fixture must exceed the limit ({} bytes)", big.len());
    let declared = app.upload(Some(&alice), big.clone(), "image/png").await;
    assert_error(declared, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    // Chunked, without Content-Length: refused while streaming.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big.chunks(4096).map(|c| Ok(c.to_vec())).collect();
    let chunked = app
        .request(Method::POST, "/images", Some(&alice))
        .header("content-type", "image/png")
        .body(reqwest::Body::wrap_stream(stream::iter(chunks)));
    assert_error(send(chunked).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    let listed = json_body(app.get(Some(&alice), "/images").await, StatusCode::OK).await;
    assert_eq!(listed["items"], json!([]), "nothing was stored");
    app.upload_ok(&alice, png_fixture(16, 16), "image/png").await;
}
