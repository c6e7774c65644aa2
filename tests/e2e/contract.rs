//! The served contract: `/openapi.json` documents every route, without a token and with the
//! usual headers.

use crate::support::*;
use reqwest::StatusCode;

/// Every route a client may call (the API contract in `public/openapi.json`, docs/LIVE.md and the README).
const ROUTES: [(&str, &str); 19] = [
    ("get", "/health"),
    ("get", "/openapi.json"),
    ("get", "/studio-client.js"),
    ("get", "/steps"),
    ("get", "/presets"),
    ("post", "/images"),
    ("get", "/images"),
    ("get", "/images/{id}"),
    ("get", "/images/{id}/content"),
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
    assert_eq!(documented, 16, "a documented path the server does not serve, or a route missing from ROUTES");
}
