//! The served contract: `/openapi.json` documents every route, without a token and with the
//! usual headers.

use crate::support::*;
use reqwest::StatusCode;

/// Every route a client may call (the API contract in `public/openapi.json`, docs/LIVE.md and the README).
const ROUTES: [(&str, &str); 28] = [
    ("get", "/health"),
    ("get", "/"),
    ("get", "/studio/{file}"),
    ("get", "/openapi.json"),
    ("get", "/studio-client.js"),
    ("get", "/steps"),
    ("get", "/presets"),
    ("post", "/images"),
    ("get", "/images"),
    ("get", "/images/{id}"),
    ("get", "/images/{id}/content"),
    ("get", "/images/{id}/render"),
    ("post", "/images/{id}/links"),
    ("delete", "/images/{id}"),
    ("post", "/tasks"),
    ("get", "/tasks"),
    ("get", "/tasks/{id}"),
    ("post", "/tasks/{id}/cancel"),
    ("get", "/tasks/{id}/download"),
    ("get", "/tasks/{id}/ws"),
    ("get", "/tasks/{id}/events"),
    ("get", "/events/ws"),
    ("get", "/events"),
    ("get", "/usage"),
    ("post", "/admin/backups"),
    ("get", "/admin/backups"),
    ("post", "/admin/restore"),
    ("post", "/admin/usage"),
];

#[tokio::test(flavor = "multi_thread")]
async fn openapi_json_is_served_without_a_token_and_documents_every_route() {
    let app = TestApp::spawn().await;
    let resp = app.get(None, "/openapi.json").await;
    assert!(resp.headers().contains_key("x-request-id"));
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let doc = json_body(resp, StatusCode::OK).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    for (method, path) in ROUTES {
        assert!(doc["paths"][path][method].is_object(), "openapi.json lacks {method} {path}");
    }
    let documented = doc["paths"].as_object().expect("paths").len();
    assert_eq!(documented, 24, "a documented path the server does not serve, or a route missing from ROUTES");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_studio_page_is_served_at_the_root_with_its_own_content_security_policy() {
    let app = TestApp::spawn().await;
    let page = app.get(None, "/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let h = page.headers().clone();
    assert!(h.contains_key("x-request-id"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-type"].to_str().expect("ascii").starts_with("text/html"), "{:?}", h["content-type"]);
    let policy = h["content-security-policy"].to_str().expect("ascii").to_string();
    assert!(policy.starts_with("default-src 'self';"), "{policy}");
    assert!(policy.contains(&format!("connect-src 'self' ws://127.0.0.1:{0} wss://127.0.0.1:{0};", app.port)), "{policy}");
    assert!(policy.contains("img-src 'self' blob: data:;") && !policy.contains("unsafe-inline"), "{policy}");
    let html = page.text().await.expect("the page");
    assert!(html.contains(r#"<script type="module" src="/studio/app.js">"#), "the page loads its entry module");
    // Every other answer keeps the API's deny-all policy.
    let module = app.get(None, "/studio/app.js").await;
    assert_eq!(module.status(), StatusCode::OK);
    assert_eq!(module.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    let missing = app.get(None, "/studio/nope.js").await;
    assert_eq!(json_body(missing, StatusCode::NOT_FOUND).await["error"]["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_known_path_asked_with_another_method_answers_405_with_allow() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/tasks", "POST, GET"),
        (reqwest::Method::PUT, "/images/img_0123456789abcdef0123456789abcdef", "GET, DELETE"),
        (reqwest::Method::GET, "/tasks/task_0123456789abcdef0123456789abcdef/cancel", "POST"),
    ] {
        let resp = app.request(method.clone(), path, Some(&token)).send().await.expect("send");
        assert_eq!(resp.headers().get("allow").and_then(|v| v.to_str().ok()), Some(allow), "{method} {path}");
        let body = json_body(resp, StatusCode::METHOD_NOT_ALLOWED).await;
        assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    }
    // A path that exists for no method is still 404.
    let resp = app.request(reqwest::Method::DELETE, "/nowhere", Some(&token)).send().await.expect("send");
    assert_eq!(json_body(resp, StatusCode::NOT_FOUND).await["error"]["code"], "not_found");
}
