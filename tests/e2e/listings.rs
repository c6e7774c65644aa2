//! Listings (`GET /images`, `GET /tasks`) and deleting an image with everything derived from it.

use crate::support::*;
use functions::registry::{ENCODE, GRAYSCALE};
use futures_util::{stream, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Listing tests upload hundreds of images: the rate limit is not what they test.
const UNLIMITED: (&str, &str) = ("RATE_LIMIT_PER_MINUTE", "1000000");

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|i| i["id"].as_str().expect("item id").to_string()).collect()
}

/// Uploads `count` small PNGs, 8 at a time; returns their ids.
async fn upload_many(app: &TestApp, token: &str, count: usize) -> Vec<String> {
    stream::iter(0..count)
        .map(|_| async move { app.upload_ok(token, png_fixture(4, 4), "image/png").await["id"].as_str().map(str::to_string).expect("id") })
        .buffer_unordered(8)
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_through_250_images_while_others_arrive_sees_each_exactly_once() {
    let app = TestApp::spawn_with(&[UNLIMITED]).await;
    let token = app.token("alice");
    let originals: HashSet<String> = upload_many(&app, &token, 250).await.into_iter().collect();

    let (mut seen, mut arrived, mut cursor, mut pages) = (Vec::new(), HashSet::new(), None::<String>, 0);
    loop {
        let path = match &cursor {
            Some(c) => format!("/images?limit=20&cursor={c}"),
            None => "/images?limit=20".to_string(),
        };
        let page = json_body(app.get(Some(&token), &path).await, StatusCode::OK).await;
        pages += 1;
        seen.extend(ids(&page));
        // New uploads between pages are newer than the first page: they must not shift anything.
        arrived.extend(upload_many(&app, &token, 3).await);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(pages < 50, "paging does not end");
    }
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no image is listed twice");
    assert_eq!(unique, originals, "exactly the 250 images that existed when paging began");
    assert_eq!(pages, 13, "12 full pages of 20 and one of 10");
    let first = json_body(app.get(Some(&token), "/images?limit=100").await, StatusCode::OK).await;
    let newest: HashSet<String> = ids(&first).into_iter().take(arrived.len()).collect();
    assert_eq!(newest, arrived, "newest first: the late arrivals lead the listing");
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_are_listed_newest_first_and_filter_by_status() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let good = app.upload_png(&token, "good.png", 16, 16).await;
    let broken = app.upload_ok(&token, corrupt_png_body(16, 16), "image/png").await["id"].as_str().expect("id").to_string();
    let mut created = Vec::new();
    for image in [&good, &broken, &good] {
        let task = app.run_chain(&token, image, json!([{"op": GRAYSCALE}, {"op": ENCODE, "format": "png"}])).await;
        created.push(task["id"].as_str().expect("id").to_string());
    }
    for id in &created {
        app.wait_for_task(&token, id, TASK_DEADLINE).await;
    }
    let succeeded = listing_until(&app, &token, "/tasks?status=succeeded", |ids| ids.len() == 2).await;
    assert_eq!(succeeded, [created[2].clone(), created[0].clone()], "newest first");
    let failed = listing_until(&app, &token, "/tasks?status=failed", |ids| ids.len() == 1).await;
    assert_eq!(failed, [created[1].clone()]);

    let all = json_body(app.get(Some(&token), "/tasks?limit=2").await, StatusCode::OK).await;
    assert_eq!(ids(&all), [created[2].clone(), created[1].clone()]);
    let item = &all["items"][0];
    assert_eq!((item["status"].as_str(), item["progress"]["done"].as_u64()), (Some("succeeded"), Some(2)), "{item}");
    let link = item["links"]["download"].as_str().expect("listed tasks carry signed links");
    assert_eq!(send(app.http.get(link)).await.status(), StatusCode::OK);
    let rest = json_body(
        app.get(Some(&token), &format!("/tasks?limit=2&cursor={}", all["next_cursor"].as_str().expect("more"))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((ids(&rest), rest["next_cursor"].clone()), (vec![created[0].clone()], Value::Null));

    // A cursor longer than any issued (leading zeros: "v1:000…7") decodes, and is still refused.
    let long = "/tasks?cursor=djE6MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwNw";
    for (path, field) in
        [("/tasks?status=done", "status"), ("/tasks?limit=0", "limit"), ("/images?cursor=bogus", "cursor"), (long, "cursor")]
    {
        let error = assert_error(app.get(Some(&token), path).await, StatusCode::BAD_REQUEST, "invalid_request").await;
        assert!(error["message"].as_str().expect("message").starts_with(field), "{path}: {error}");
    }
}

/// Polls a task listing until `done` holds for its ids (the index is written just after the
/// task's own state, so a reader may be a moment ahead of it).
async fn listing_until(app: &TestApp, token: &str, path: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + TASK_DEADLINE;
    loop {
        let listed = ids(&json_body(app.get(Some(token), path).await, StatusCode::OK).await);
        if done(&listed) {
            return listed;
        }
        assert!(Instant::now() < deadline, "{path} never reached the expected listing: {listed:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_an_image_removes_its_original_listing_and_derived_outputs_only() {
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let (doomed, kept) = (app.upload_png(&token, "doomed.png", 37, 29).await, app.upload_png(&token, "kept.png", 30, 20).await);
    let steps = json!([{"op": GRAYSCALE}, {"op": ENCODE, "format": "png"}]);
    let single = app.run_chain(&token, &doomed, steps.clone()).await["id"].as_str().expect("id").to_string();
    let body = json!({"images": [doomed, kept], "steps": steps});
    let zip = json_body(app.create_task(&token, &body).await, StatusCode::ACCEPTED).await["id"].as_str().expect("id").to_string();
    let other = app.run_chain(&token, &kept, steps).await["id"].as_str().expect("id").to_string();
    for id in [&single, &zip, &other] {
        assert_eq!(app.wait_for_task(&token, id, TASK_DEADLINE).await["status"], "succeeded");
    }

    let resp = send(app.request(Method::DELETE, &format!("/images/{doomed}"), Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for path in [
        format!("/images/{doomed}"),
        format!("/images/{doomed}/content"),
        format!("/tasks/{single}/download"),
        format!("/tasks/{zip}/download"),
    ] {
        assert_error(app.get(Some(&token), &path).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let again = send(app.request(Method::DELETE, &format!("/images/{doomed}"), Some(&token))).await;
    assert_error(again, StatusCode::NOT_FOUND, "not_found").await;
    let listed = ids(&json_body(app.get(Some(&token), "/images").await, StatusCode::OK).await);
    assert_eq!(listed, std::slice::from_ref(&kept));
    // What came from other bytes stays.
    json_body(app.get(Some(&token), &format!("/images/{kept}")).await, StatusCode::OK).await;
    assert!(download(&app, &token, &other).await.starts_with(PNG_SIGNATURE));
}
