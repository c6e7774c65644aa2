//! Render URLs (`GET /images/{id}/render`): what an `<img src>` gets — the resized image, the
//! three cache levels with their `Stellar-Cache` answers, validators, signed links that grant
//! one rendition, format negotiation, coalescing, and the refusals.

use crate::support::*;
use functions::registry::{ENCODE, RESIZE};
use image::{GenericImageView, ImageFormat};
use reqwest::header::{HeaderMap, ACCEPT, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How long a log line may take to reach the server log after its request answered.
const LOG_DEADLINE: Duration = Duration::from_secs(20);

pub(crate) fn header(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// GET a render URL (a path with a bearer token, or a full signed URL without one).
pub(crate) async fn render(app: &TestApp, token: Option<&str>, url: &str, accept: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let url = if url.starts_with("http") { url.to_string() } else { app.url(url) };
    let mut req = app.http.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(a) = accept {
        req = req.header(ACCEPT, a);
    }
    let resp = send(req).await;
    let (status, headers) = (resp.status(), resp.headers().clone());
    let body = resp.bytes().await.expect("body").to_vec();
    if status == StatusCode::OK {
        // Every level (miss, store, edge) answers with its length, as a file server does.
        assert_eq!(header(&headers, CONTENT_LENGTH), body.len().to_string(), "{headers:?}");
    }
    (status, headers, body)
}

pub(crate) fn id_of(image: &Value) -> String {
    image["id"].as_str().expect("image id").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_render_url_answers_the_resized_image_then_from_its_caches() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let image = id_of(&app.upload_ok(&alice, jpeg_fixture(640, 480), "image/jpeg").await);
    let path = format!("/images/{image}/render?w=160");

    let (status, first, body) = render(&app, Some(&alice), &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&first, "stellar-cache"), "miss");
    assert_eq!(header(&first, CONTENT_TYPE), "image/jpeg", "a client naming no modern format gets JPEG for a photo");
    assert_eq!(decode_as(&body, ImageFormat::Jpeg).dimensions(), (160, 120));
    assert!(header(&first, CACHE_CONTROL).starts_with("private"), "a bearer answer is the caller's alone");
    assert!(header(&first, VARY).contains("Accept"), "a negotiated format varies by Accept");

    // The answer comes as soon as the bytes exist; the copies are written after it, and its
    // `render` line says they are in place.
    assert_eq!(render_lines(&app, &image, 1).await, 1);
    let (_, again, same) = render(&app, Some(&alice), &path, None).await;
    assert_eq!(header(&again, "stellar-cache"), "hit-edge");
    assert_eq!((header(&again, ETAG), same), (header(&first, ETAG), body), "the edge answers the same bytes and validator");

    let etag = header(&first, ETAG);
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "a strong ETag: {etag}");
    let resp = send(app.http.get(app.url(&path)).bearer_auth(&alice).header(IF_NONE_MATCH, &etag)).await;
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);

    // The same options in another order and spelling are the same rendition.
    let (_, reordered, _) = render(&app, Some(&alice), &format!("/images/{image}/render?format=auto&w=160"), None).await;
    assert_eq!(header(&reordered, ETAG), etag);

    // Another tenant cannot render it.
    let bob = app.token("bob");
    assert_error(app.get(Some(&bob), &path).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn image_objects_carry_a_signed_thumbnail_that_grants_that_rendition_only() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let uploaded = app.upload_ok(&alice, png_fixture(600, 300), "image/png").await;
    let image = id_of(&uploaded);
    let listed = json_body(app.get(Some(&alice), "/images").await, StatusCode::OK).await;
    let fetched = json_body(app.get(Some(&alice), &format!("/images/{image}")).await, StatusCode::OK).await;
    let thumbnail = fetched["links"]["thumbnail"].as_str().expect("links.thumbnail").to_string();
    assert_eq!(listed["items"][0]["links"]["thumbnail"], fetched["links"]["thumbnail"], "stable across listings");
    assert_eq!(uploaded["links"]["thumbnail"], fetched["links"]["thumbnail"]);

    let (status, headers, body) = render(&app, None, &thumbnail, Some("image/png")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&headers, CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert_eq!(header(&headers, CONTENT_TYPE), "image/png", "a PNG source may be transparent: PNG when nothing better is accepted");
    assert_eq!(decode_as(&body, ImageFormat::Png).dimensions(), (256, 256));

    // The link signs its options and its image: any change is refused, never served.
    let bigger = thumbnail.replacen("w=256", "w=2048", 1);
    assert_error(send(app.http.get(&bigger)).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let other = id_of(&app.upload_ok(&alice, png_fixture(10, 10), "image/png").await);
    let elsewhere = thumbnail.replacen(&image, &other, 1);
    assert_error(send(app.http.get(&elsewhere)).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let extra = format!("{thumbnail}&q=5");
    assert_error(send(app.http.get(&extra)).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn minted_links_follow_their_options_and_bounds() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.token("alice"), app.token("bob"));
    let image = id_of(&app.upload_ok(&alice, jpeg_fixture(400, 200), "image/jpeg").await);
    let mint = |token: String, body: Value| {
        let url = app.url(&format!("/images/{image}/links"));
        let http = app.http.clone();
        async move { send(http.post(url).bearer_auth(token).json(&body)).await }
    };
    let link =
        json_body(mint(alice.clone(), json!({"render": {"w": 50, "format": "png"}, "ttl_seconds": 120})).await, StatusCode::CREATED).await;
    let url = link["url"].as_str().expect("url");
    assert!(link["expires_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{link}");
    let (status, headers, body) = render(&app, None, url, None).await;
    assert_eq!((status, header(&headers, CONTENT_TYPE)), (StatusCode::OK, "image/png".to_string()));
    assert_eq!(decode_as(&body, ImageFormat::Png).dimensions(), (50, 25));

    for (body, code) in [
        (json!({"render": {"w": 50}, "ttl_seconds": 0}), "invalid_request"),
        (json!({"render": {"w": 50}, "ttl_seconds": 31_536_001}), "invalid_request"),
        (json!({"render": {"width": 50}}), "invalid_chain"),
        (json!({"render": {"w": 50}, "extra": 1}), "invalid_request"),
    ] {
        let error = assert_error(mint(alice.clone(), body.clone()).await, StatusCode::BAD_REQUEST, code).await;
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}: {error}");
    }
    assert_error(mint(bob, json!({"render": {"w": 50}})).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_options_are_named_and_strangers_learn_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let image = id_of(&app.upload_ok(&alice, jpeg_fixture(64, 64), "image/jpeg").await);
    for (query, option) in
        [("w=0", "w:"), ("w=10&fit=squash", "fit:"), ("q=101", "q:"), ("format=tiff2", "format:"), ("dpr=3", "dpr:"), ("size=1", "size:")]
    {
        let path = format!("/images/{image}/render?{query}");
        let error = assert_error(app.get(Some(&alice), &path).await, StatusCode::BAD_REQUEST, "invalid_chain").await;
        assert!(error["message"].as_str().is_some_and(|m| m.starts_with(option)), "{query}: {error}");
        assert_error(app.get(None, &path).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let too_large_for_a_request = format!("/images/{image}/render?w=16000&h=16000&fit=fill&format=png");
    let error = assert_error(app.get(Some(&alice), &too_large_for_a_request).await, StatusCode::PAYLOAD_TOO_LARGE, "image_too_large").await;
    assert!(
        error["message"].as_str().is_some_and(|m| m.contains("MiB") && m.contains("smaller rendition")),
        "figures and the hint: {error}"
    );
}

/// Render lines of `image` in the server log, once at least `at_least` have arrived.
async fn render_lines(app: &TestApp, image: &str, at_least: usize) -> usize {
    log_lines(app, "render", image, at_least).await
}

/// Lines of `event` about `image` in the server log, once at least `at_least` have arrived.
pub(crate) async fn log_lines(app: &TestApp, event: &str, image: &str, at_least: usize) -> usize {
    let deadline = Instant::now() + LOG_DEADLINE;
    loop {
        let count = app
            .server_log()
            .lines()
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["event"] == event && v["image"] == image)
            .count();
        if count >= at_least || Instant::now() > deadline {
            return count;
        }
        // Short poll inside the deadline; the condition is the count above.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_simultaneous_requests_for_one_cold_rendition_render_it_once() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let image = id_of(&app.upload_ok(&alice, jpeg_fixture(1200, 900), "image/jpeg").await);
    let path = format!("/images/{image}/render?w=300&q=70");
    let requests = (0..100).map(|_| render(&app, Some(&alice), &path, None));
    let answers = futures_util::future::join_all(requests).await;
    assert!(answers.iter().all(|(s, _, _)| *s == StatusCode::OK), "{:?}", answers.iter().map(|a| a.0).collect::<Vec<_>>());
    assert!(answers.iter().all(|(_, _, b)| *b == answers[0].2), "every request gets the same bytes");
    // Let a second render, if there were one, reach the log before counting.
    assert_eq!(render_lines(&app, &image, 2).await, 1, "one render for 100 simultaneous requests");
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_and_renders_share_renditions_and_deleting_the_image_deletes_them() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    let bytes = jpeg_fixture(320, 240);
    let image = id_of(&app.upload_ok(&alice, bytes.clone(), "image/jpeg").await);
    // `?w=64&format=png` is the chain resize(width 64) → encode(png): a task's result serves it.
    let task = app.run_chain(&alice, &image, json!([{"op": RESIZE, "width": 64}, {"op": ENCODE, "format": "png"}])).await;
    let done = app.wait_for_task(&alice, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let path = format!("/images/{image}/render?w=64&format=png");
    let (_, headers, body) = render(&app, Some(&alice), &path, None).await;
    assert_eq!(header(&headers, "stellar-cache"), "hit-store", "the task's result is the rendition");
    assert_eq!(body, download(&app, &alice, task["id"].as_str().expect("id")).await);
    // Its edge copy is written after the answer (`render_kept` once it is).
    assert_eq!(log_lines(&app, "render_kept", &image, 1).await, 1);

    assert_eq!(
        send(app.request(reqwest::Method::DELETE, &format!("/images/{image}"), Some(&alice))).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(app.get(Some(&alice), &path).await, StatusCode::NOT_FOUND, "not_found").await;
    // The same bytes uploaded again find no rendition left behind.
    let again = id_of(&app.upload_ok(&alice, bytes, "image/jpeg").await);
    let (_, headers, _) = render(&app, Some(&alice), &format!("/images/{again}/render?w=64&format=png"), None).await;
    assert_eq!(header(&headers, "stellar-cache"), "miss");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_racing_a_render_leaves_no_rendition_to_serve() {
    let app = TestApp::spawn().await;
    let alice = app.token("alice");
    for round in 0..4 {
        let image = id_of(&app.upload_ok(&alice, jpeg_fixture(1600, 1200), "image/jpeg").await);
        let path = format!("/images/{image}/render?w=400");
        // Sent together: the delete may land before the render reads the image, while it works,
        // or while its copies are written after its answer.
        let delete = app.request(reqwest::Method::DELETE, &format!("/images/{image}"), Some(&alice));
        let ((status, headers, _), deleted) = tokio::join!(render(&app, Some(&alice), &path, None), send(delete));
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT, "round {round}");
        if status == StatusCode::OK && header(&headers, "stellar-cache") == "miss" {
            // It rendered: once its copies are written (its `render` line comes after them and
            // after its check of the image), the deleted image has none left to serve.
            assert_eq!(render_lines(&app, &image, 1).await, 1, "round {round}");
        }
        assert_error(app.get(Some(&alice), &path).await, StatusCode::NOT_FOUND, "not_found").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_miss_costs_more_than_a_hit_and_hits_are_never_refused() {
    // 20 tokens a minute: an upload costs 5, a rendered miss 1 + 5, an edge hit 1 (after it is served).
    let app = TestApp::spawn_with(&[("RATE_LIMIT_PER_MINUTE", "20")]).await;
    let alice = app.token("alice");
    let image = id_of(&app.upload_ok(&alice, jpeg_fixture(200, 100), "image/jpeg").await);
    let path = |w: u32| format!("/images/{image}/render?w={w}");
    for w in [20, 30] {
        let (status, headers, _) = render(&app, Some(&alice), &path(w), None).await;
        assert_eq!((status, header(&headers, "stellar-cache")), (StatusCode::OK, "miss".to_string()));
    }
    // About 3 tokens are left: a third rendition cannot pay for its render.
    let refused = app.get(Some(&alice), &path(40)).await;
    assert!(refused.headers().get("retry-after").is_some());
    assert_error(refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // What the edge cache holds (once the renders' copies are written) is still served, however
    // empty the bucket is.
    assert_eq!(render_lines(&app, &image, 2).await, 2);
    for _ in 0..6 {
        let (status, headers, _) = render(&app, Some(&alice), &path(20), None).await;
        assert_eq!((status, header(&headers, "stellar-cache")), (StatusCode::OK, "hit-edge".to_string()));
    }
}
