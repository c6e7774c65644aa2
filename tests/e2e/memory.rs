//! The 128 MiB isolate, for real: the Worker is linked so that its memory cannot grow past it.
//! A chain the planner was told to admit although it cannot fit fails cleanly before decoding;
//! an allocation past the cap (a misplanned step, injected) traps, and the Worker recovers: the
//! job is retried and other requests are unaffected. A finished chain gives its heap back.

use crate::support::*;
use functions::registry::{ENCODE, GRAYSCALE, RESIZE};
use image::{ImageFormat, ImageOutputFormat, RgbImage};
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// An 8000×6000 PNG of one colour: 48 MP to decode (144 MB as RGB), a few hundred KB to send.
fn flat_png_48_megapixels() -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let img = image::DynamicImage::ImageRgb8(RgbImage::from_pixel(8000, 6000, image::Rgb([40, 90, 160])));
    img.write_to(&mut out, ImageOutputFormat::Png).expect("encode the flat 48 MP PNG");
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_admitted_beyond_the_isolate_fails_cleanly_before_decoding_and_the_worker_goes_on() {
    // A budget far above the isolate (an operator's mistake): the planner admits what the
    // isolate cannot hold, so the job itself must refuse it, with the figures.
    let app = TestApp::spawn_with(&[("MEMORY_BUDGET_BYTES", "1073741824")]).await;
    let token = app.token("alice");
    let big = app.upload_ok(&token, flat_png_48_megapixels(), "image/png").await;
    let task = app.run_chain(&token, big["id"].as_str().expect("id"), json!([{"op": GRAYSCALE}])).await;
    let done = app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    assert_eq!(done["status"], "failed", "{done:#}");
    assert_eq!(done["error"]["code"], "image_too_large", "{done:#}");
    let message = done["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("MiB at its peak") && message.contains("128 MiB isolate"), "figures in the message: {message}");
    assert_eq!(done["steps"][0]["attempts"], 1, "a peak that can never fit is not retried: {done:#}");

    // The same isolate still runs ordinary work.
    let small = app.upload_png(&token, "s.png", 64, 48).await;
    let task = app.run_chain(&token, &small, json!([{"op": RESIZE, "width": 32}, {"op": ENCODE, "format": "png"}])).await;
    let done = app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allocation_past_the_cap_ends_only_that_attempt_and_the_retry_succeeds() {
    // Every step's first attempt allocates 128 MiB without asking: under the linked cap that
    // traps (were the cap missing, the allocation would succeed and attempt 1 would finish).
    let app = TestApp::spawn_with(&[("FAULT_INJECTION", "oom=1"), ("STEP_TIMEOUT_SECONDS", "3")]).await;
    let token = app.token("alice");
    let image = app.upload_png(&token, "o.png", 80, 60).await;
    let task = app.run_chain(&token, &image, json!([{"op": RESIZE, "width": 40}, {"op": ENCODE, "format": "png"}])).await;
    let id = task["id"].as_str().expect("id");
    let done = app.wait_for_task(&token, id, TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    assert!(done["steps"][0]["attempts"].as_u64().is_some_and(|a| a >= 2), "the first attempt trapped: {done:#}");
    assert_eq!(decode_as(&download(&app, &token, id).await, ImageFormat::Png).width(), 40);

    // After the trap the module was re-created: requests and uploads work as before.
    let listed = json_body(app.get(Some(&token), "/images").await, StatusCode::OK).await;
    assert!(listed["items"].as_array().is_some_and(|items| !items.is_empty()), "{listed}");
    app.upload_png(&token, "after.png", 20, 20).await;
}

/// The allocator's counts (`GET /__bench/memory`, served with `BENCH_ROUTES=1`): live, peak, instance.
async fn heap(app: &TestApp, token: &str) -> (u64, u64, u64) {
    let m = json_body(app.get(Some(token), "/__bench/memory").await, StatusCode::OK).await;
    let field = |k: &str| m[k].as_u64().unwrap_or_else(|| panic!("{k} in {m}"));
    assert!(field("live_bytes") <= field("peak_live_bytes") && field("peak_live_bytes") <= field("linear_memory_bytes"), "{m}");
    (field("live_bytes"), field("peak_live_bytes"), field("instance_started_ms"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finished_chain_gives_its_heap_back() {
    // What the load bench's leak check relies on: the allocator counts the decode buffers of a
    // 1600×1200 image (its analysis and its chain raise the heap's peak by at least its RGB
    // pixels) and, once both have ended, our live heap is back at its level: nothing of them is
    // kept. A small image's analysis and chain first warm the objects (limiter, index) up.
    let app = TestApp::spawn_with(&[("BENCH_ROUTES", "1")]).await;
    let token = app.token("alice");
    let chain = |width: u32| json!([{"op": RESIZE, "width": width}, {"op": GRAYSCALE}, {"op": ENCODE, "format": "png"}]);
    let small = app.upload_png(&token, "s.png", 80, 60).await;
    app.wait_analysed(&token, &small).await;
    let warm = app.run_chain(&token, &small, chain(40)).await;
    app.wait_for_task(&token, warm["id"].as_str().expect("id"), TASK_DEADLINE).await;
    let (live_before, peak_before, instance) = heap(&app, &token).await;
    let pixels = 1600 * 1200 * 3;
    assert!(peak_before < live_before + pixels, "nothing that big yet: peak {peak_before}, live {live_before}");

    let big = app.upload_png(&token, "b.png", 1600, 1200).await;
    app.wait_analysed(&token, &big).await;
    let task = app.run_chain(&token, &big, chain(800)).await;
    let done = app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let (live_after, peak, same_instance) = heap(&app, &token).await;
    assert_eq!(same_instance, instance, "the module was not re-created in between");
    assert!(peak >= live_before + pixels, "the decoded image was counted: peak {peak}, live before {live_before}");
    assert!(live_after <= live_before + (256 << 10), "live heap {live_before} → {live_after} bytes after the analysis and the chain");
}

/// Bytes the allocator has handed out since the module started (`GET /__bench/memory`).
async fn allocated_total(app: &TestApp, token: &str) -> u64 {
    let m = json_body(app.get(Some(token), "/__bench/memory").await, StatusCode::OK).await;
    m["allocated_bytes_total"].as_u64().unwrap_or_else(|| panic!("allocated_bytes_total in {m}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_rendition_is_answered_and_copied_to_the_edge_without_passing_through_wasm_memory() {
    // A rendition is the largest thing a render holds after its work: its answer, its edge
    // copy and its store copy each took a wasm copy of it, in memory that never shrinks. Now
    // the bytes stay in JS: a store hit's whole life (answer, then the edge write) allocates
    // nothing of its size in wasm.
    let app = TestApp::spawn_with(&[("BENCH_ROUTES", "1")]).await;
    let token = app.token("alice");
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let noise = RgbImage::from_fn(1200, 1000, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        image::Rgb([state as u8, (state >> 8) as u8, (state >> 16) as u8])
    });
    let mut png = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(noise).write_to(&mut png, ImageOutputFormat::Png).expect("encode the noise");
    let image = app.upload_ok(&token, png.into_inner(), "image/png").await;
    let id = image["id"].as_str().expect("id");
    // The upload's analysis decodes the image in this isolate too: measured only once it ran,
    // so that what is counted is the store hit's own (it landed in the window under load).
    app.wait_analysed(&token, id).await;
    // A task makes the rendition `?w=1000&format=png` (megabytes of noise) for the store.
    let task = app.run_chain(&token, id, json!([{"op": RESIZE, "width": 1000}, {"op": ENCODE, "format": "png"}])).await;
    let done = app.wait_for_task(&token, task["id"].as_str().expect("id"), TASK_DEADLINE).await;
    let size = done["outputs"][0]["bytes"].as_u64().unwrap_or_else(|| panic!("an output: {done:#}"));
    assert!(size > 2 << 20, "a rendition of megabytes: {size}");

    let before = allocated_total(&app, &token).await;
    let (status, headers, body) = crate::render::render(&app, Some(&token), &format!("/images/{id}/render?w=1000&format=png"), None).await;
    assert_eq!((status, crate::render::header(&headers, "stellar-cache")), (StatusCode::OK, "hit-store".to_string()));
    assert_eq!(body.len() as u64, size);
    assert_eq!(crate::render::log_lines(&app, "render_kept", id, 1).await, 1, "the edge copy was written");
    let allocated = allocated_total(&app, &token).await - before;
    assert!(allocated < size / 4, "{allocated} bytes allocated in wasm to serve and keep a {size}-byte rendition");
}

/// A JPEG header declaring 4000×3000, then `len` bytes of noise: accepted by the upload (which
/// reads headers only), as big as the upload limit allows.
pub fn jpeg_header_then_noise(len: usize) -> Vec<u8> {
    header_then_noise(&[0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0x0B, 0xB8, 0x0F, 0xA0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1], len)
}

/// A PNG whose IHDR declares 4000×3000, then noise, which a PNG reader takes for chunks of
/// random (often huge) declared lengths.
fn png_header_then_noise(len: usize) -> Vec<u8> {
    let mut ihdr = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    ihdr.extend_from_slice(&4000u32.to_be_bytes());
    ihdr.extend_from_slice(&3000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    header_then_noise(&ihdr, len)
}

fn header_then_noise(header: &[u8], len: usize) -> Vec<u8> {
    let mut bytes = header.to_vec();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    bytes.extend((0..len).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 24) as u8
    }));
    bytes
}

/// `bytes` as the `file` field of a multipart form: (content type, body).
pub fn multipart(bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "stellar-boundary-7d1f";
    let head =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n");
    let body = [head.as_bytes(), bytes, format!("\r\n--{boundary}--\r\n").as_bytes()].concat();
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_uploads_at_the_size_limit_are_all_stored_intact() {
    // Six 48 MiB uploads at once, raw and multipart: held in wasm memory (as they once were:
    // 48 MiB raw, 96 MiB multipart), two of them aborted the module and failed every request
    // in flight; so did PNGs whose noise the png reader took for chunks to reserve. Now wasm
    // sees 1 MiB of each at a time.
    let app = TestApp::spawn().await;
    let token = app.token("alice");
    let (jpeg, png) = (jpeg_header_then_noise(48 << 20), png_header_then_noise(48 << 20));
    let (form_type, form) = multipart(&jpeg);
    // 288 MiB in flight at once: on a loaded 2-core machine that outlasts the client's usual
    // 30 s timeout, and this test is about integrity, not speed.
    let upload = |body: &Vec<u8>, content_type: &str| {
        let req = app.request(reqwest::Method::POST, "/images", Some(&token)).header("content-type", content_type);
        send(req.body(body.clone()).timeout(std::time::Duration::from_secs(180)))
    };
    let sends = (0..6).map(|i| match i % 3 {
        0 => upload(&jpeg, "image/jpeg"),
        1 => upload(&form, &form_type),
        _ => upload(&png, "image/png"),
    });
    let digests = [hex::encode(Sha256::digest(&jpeg)), hex::encode(Sha256::digest(&png))];
    for response in futures_util::future::join_all(sends).await {
        let image = json_body(response, StatusCode::CREATED).await;
        assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(4000), Some(3000)), "{image}");
        let (sent, digest) = match image["format"].as_str() {
            Some("png") => (&png, &digests[1]),
            _ => (&jpeg, &digests[0]),
        };
        assert_eq!(image["bytes"].as_u64(), Some(sent.len() as u64), "{image}");
        assert_eq!(image["sha256"].as_str(), Some(digest.as_str()), "{image}");
    }
    let listed = json_body(app.get(Some(&token), "/images?limit=10").await, StatusCode::OK).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(6), "{listed}");
}
