//! Backups and a tested restore: a tenant's images and tasks are backed up, wiped through the
//! API, restored from the backup, and the listings, image records and original bytes are what
//! they were. Only a token with `"role": "admin"` sees the admin routes at all.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// wrangler.toml's backup schedule (`BACKUP_CRON`).
const BACKUP: &str = "41 2 * * *";

fn admin_token(app: &TestApp) -> String {
    jwt(&json!({"alg": "HS256", "typ": "JWT"}), &json!({"sub": "ops", "role": "admin", "exp": unix_now() + 600}), app.secret())
}

/// A listing's items without their `links` (signed anew, with a new expiry, on every answer).
fn items(page: &Value) -> Vec<Value> {
    let mut items = page["items"].as_array().expect("items").clone();
    for item in &mut items {
        item.as_object_mut().expect("item").remove("links");
    }
    items
}

async fn admin(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> reqwest::Response {
    let req = app.request(method, path, token);
    send(match body {
        Some(b) => req.json(&b),
        None => req,
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wiped_tenant_is_restored_from_a_backup_with_its_listings_records_and_originals() {
    let app = TestApp::spawn().await;
    let (token, admin_token) = (app.token("alice"), admin_token(&app));
    // c.png has a.png's bytes, and bob's image b.png's: two contents for four images.
    let images = [
        app.upload_png(&token, "a.png", 24, 16).await,
        app.upload_png(&token, "b.png", 8, 8).await,
        app.upload_png(&token, "c.png", 24, 16).await,
    ];
    let task = app.run_chain(&token, &images[0], json!([{"op": "grayscale"}, {"op": "encode", "format": "png"}])).await;
    app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    let bob = app.upload_png(&app.token("bob"), "bob.png", 8, 8).await;

    // Tenants, and callers without a token, are told there is nothing here.
    for who in [Some(token.as_str()), None] {
        assert_error(admin(&app, Method::POST, "/admin/backups", who, None).await, StatusCode::NOT_FOUND, "not_found").await;
        assert_error(admin(&app, Method::GET, "/admin/backups", who, None).await, StatusCode::NOT_FOUND, "not_found").await;
        let body = json!({"backup": "x", "tenant": "alice"});
        assert_error(admin(&app, Method::POST, "/admin/restore", who, Some(body)).await, StatusCode::NOT_FOUND, "not_found").await;
    }

    // The state to back up is a settled one: each upload's analysis (delivered a second after
    // it) has stored its placeholder.
    for id in &images {
        app.wait_analysed(&token, id).await;
    }
    let listed = (
        items(&json_body(app.get(Some(&token), "/images").await, StatusCode::OK).await),
        items(&json_body(app.get(Some(&token), "/tasks").await, StatusCode::OK).await),
    );
    let mut records = Vec::new();
    for id in &images {
        let record = json_body(app.get(Some(&token), &format!("/images/{id}")).await, StatusCode::OK).await;
        let bytes = app.get(Some(&token), &format!("/images/{id}/content")).await.bytes().await.expect("content").to_vec();
        records.push((record, bytes));
    }
    let usage = json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await;

    let manifest = json_body(admin(&app, Method::POST, "/admin/backups", Some(&admin_token), None).await, StatusCode::CREATED).await;
    let backup = manifest["id"].as_str().expect("backup id").to_string();
    let alice = manifest["tenants"].as_array().expect("tenants").iter().find(|t| t["tenant"] == "alice").expect("alice is backed up");
    assert_eq!((alice["images"].clone(), alice["tasks"].clone()), (json!(3), json!(1)), "{manifest:#}");
    assert!(alice["bytes"].as_u64() > Some(0));
    assert_eq!(copied(&manifest), 2, "each content copied once, across images and tenants: {manifest:#}");
    let again = json_body(admin(&app, Method::POST, "/admin/backups", Some(&admin_token), None).await, StatusCode::CREATED).await;
    assert_eq!(copied(&again), 0, "a later backup copies nothing already backed up: {again:#}");
    let list = json_body(admin(&app, Method::GET, "/admin/backups", Some(&admin_token), None).await, StatusCode::OK).await;
    assert_eq!(list["items"][1]["id"], backup.as_str(), "listed newest first: {list:#}");

    // Wipe alice through the API: her images, their originals and everything made from them.
    for id in &images {
        assert_eq!(send(app.request(Method::DELETE, &format!("/images/{id}"), Some(&token))).await.status(), StatusCode::NO_CONTENT);
    }
    assert!(items(&json_body(app.get(Some(&token), "/images").await, StatusCode::OK).await).is_empty());

    let restored = json_body(
        admin(&app, Method::POST, "/admin/restore", Some(&admin_token), Some(json!({"backup": backup, "tenant": "alice"}))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (restored["images"].clone(), restored["tasks"].clone(), restored["originals_restored"].clone()),
        (json!(3), json!(1), json!(3)),
        "every image gets its original back, the two with the same bytes too"
    );
    assert_eq!(items(&json_body(app.get(Some(&token), "/images").await, StatusCode::OK).await), listed.0, "the image listing is back");
    assert_eq!(items(&json_body(app.get(Some(&token), "/tasks").await, StatusCode::OK).await), listed.1, "the task listing is back");
    for (id, (record, bytes)) in images.iter().zip(&records) {
        assert_eq!(&json_body(app.get(Some(&token), &format!("/images/{id}")).await, StatusCode::OK).await, record);
        let back = app.get(Some(&token), &format!("/images/{id}/content")).await.bytes().await.expect("content").to_vec();
        assert_eq!(&back, bytes, "{id}: the original's bytes are back");
    }
    assert_eq!(json_body(app.get(Some(&token), "/usage").await, StatusCode::OK).await, usage, "usage as backed up");
    assert_eq!(app.get(Some(&app.token("bob")), &format!("/images/{bob}")).await.status(), StatusCode::OK, "other tenants untouched");

    let unknown = json!({"backup": "2020-01-01T00-00-00.000Z", "tenant": "alice"});
    assert_error(
        admin(&app, Method::POST, "/admin/restore", Some(&admin_token), Some(unknown)).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
}

/// Originals whose bytes a backup copied, over all its tenants.
fn copied(manifest: &Value) -> u64 {
    manifest["tenants"].as_array().expect("tenants").iter().map(|t| t["originals_copied"].as_u64().expect("count")).sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_whose_images_were_all_deleted_is_still_backed_up_with_its_task_history() {
    let app = TestApp::spawn().await;
    let token = app.token("carol");
    let image = app.upload_png(&token, "a.png", 8, 8).await;
    let task = app.run_chain(&token, &image, json!([{"op": "grayscale"}])).await;
    app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    assert_eq!(send(app.request(Method::DELETE, &format!("/images/{image}"), Some(&token))).await.status(), StatusCode::NO_CONTENT);

    app.fire_cron(BACKUP).await;
    let list = json_body(admin(&app, Method::GET, "/admin/backups", Some(&admin_token(&app)), None).await, StatusCode::OK).await;
    let tenants = list["items"][0]["tenants"].as_array().expect("tenants");
    let carol = tenants.iter().find(|t| t["tenant"] == "carol").unwrap_or_else(|| panic!("carol, without originals, is found: {list:#}"));
    assert_eq!((carol["images"].clone(), carol["tasks"].clone()), (json!(0), json!(1)), "{list:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_backup_cron_takes_a_backup_that_the_admin_listing_shows() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    app.upload_png(&token, "a.png", 8, 8).await;
    app.fire_cron(BACKUP).await;
    let list = json_body(admin(&app, Method::GET, "/admin/backups", Some(&admin_token(&app)), None).await, StatusCode::OK).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list:#}");
    let id = list["items"][0]["id"].as_str().expect("id");
    assert!(id.starts_with("20") && id.ends_with('Z') && !id.contains(':'), "named by its time: {id}");
    assert_eq!(list["items"][0]["tenants"][0]["images"], 1);
}
