//! Tests of running chains in memory: whole, step by step, and resumed from a checkpoint.

use super::*;
use crate::chain::Chain;
use crate::plan::Limits;
use serde_json::json;

/// Generous limits: these tests are about results, not refusals.
const LIMITS: Limits = Limits { max_pixels: 1 << 24, memory_budget: 1 << 30 };

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 200]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).expect("fixture");
    out
}

fn run(chain: serde_json::Value, input: Vec<u8>) -> Result<StepOutput, ImageError> {
    run_chain(&Chain::parse(&chain).expect("chain"), input, LIMITS, &HashMap::new())
}

#[test]
fn resize_grayscale_png_chain_produces_a_gray_png_of_the_requested_width() {
    let out = run(json!([{"op":"resize","width":32},{"op":"grayscale"},{"op":"encode","format":"png"}]), jpeg(64, 48)).expect("runs");
    assert_eq!((out.width, out.height, out.format), (32, 24, Some(Format::Png)));
    let img = image::load_from_memory(&out.bytes).expect("decodes");
    assert_eq!(img.color(), image::ColorType::L8);
}

#[test]
fn chain_without_encode_keeps_the_source_format() {
    let out = run(json!([{"op":"resize","width":10}]), jpeg(20, 20)).expect("runs");
    assert_eq!((out.format, out.content_type), (Some(Format::Jpeg), "image/jpeg"));
}

#[test]
fn truncated_jpeg_fails_with_invalid_image() {
    let mut bytes = jpeg(64, 64);
    bytes.truncate(bytes.len() / 3);
    assert_eq!(run(json!([{"op":"grayscale"}]), bytes).unwrap_err().code(), "invalid_image");
}

#[test]
fn shrink_on_load_gives_the_requested_size_from_a_large_jpeg() {
    let out = run(json!([{"op":"resize","width":100},{"op":"encode","format":"jpeg","quality":80}]), jpeg(1600, 1200)).expect("runs");
    assert_eq!((out.width, out.height), (100, 75));
}

#[test]
fn a_chain_starting_with_auto_orient_still_decodes_a_big_jpeg_shrunk() {
    let chain = Chain::parse(&json!([{"op":"auto_orient"},{"op":"resize","width":100},{"op":"encode","format":"jpeg","quality":80}]))
        .expect("chain");
    let mut session = Session::start(chain.steps(), Format::Jpeg, LIMITS, jpeg(1600, 1200), 0);
    session.decode().expect("decodes");
    assert_eq!(session.dims(), (200, 150), "1/8 scale still covers the 100 px resize");
    let out = run_chain(&chain, jpeg(1600, 1200), LIMITS, &HashMap::new()).expect("runs");
    assert_eq!((out.width, out.height), (100, 75));
}

#[test]
fn resuming_from_a_checkpoint_gives_the_same_result_as_running_straight_through() {
    let chain =
        Chain::parse(&json!([{"op":"resize","width":64},{"op":"grayscale"},{"op":"blur","sigma":1.5},{"op":"encode","format":"png"}]))
            .expect("chain");
    let straight = run_chain(&chain, jpeg(128, 96), LIMITS, &HashMap::new()).expect("runs");
    let mut first = Session::start(chain.steps(), Format::Jpeg, LIMITS, jpeg(128, 96), 0);
    first.run_next(&HashMap::new()).expect("resize");
    first.run_next(&HashMap::new()).expect("grayscale");
    let checkpoint = first.checkpoint().expect("full-size pixels can be checkpointed");
    let mut resumed = Session::start(chain.steps(), Format::Jpeg, LIMITS, checkpoint, first.next_step());
    while !resumed.is_done() {
        resumed.run_next(&HashMap::new()).expect("step");
    }
    assert_eq!(resumed.finish().expect("result").bytes, straight.bytes);
}

#[test]
fn an_encode_in_the_middle_of_a_chain_is_decoded_again_by_the_next_step() {
    let out = run(json!([{"op":"encode","format":"jpeg","quality":50},{"op":"grayscale"},{"op":"encode","format":"png"}]), jpeg(40, 30))
        .expect("runs");
    assert_eq!((out.width, out.height, out.format), (40, 30, Some(Format::Png)));
}

#[test]
fn finishing_before_the_last_step_is_an_error_not_a_partial_result() {
    let chain = Chain::parse(&json!([{"op":"grayscale"},{"op":"encode","format":"png"}])).expect("chain");
    let mut session = Session::start(chain.steps(), Format::Jpeg, LIMITS, jpeg(16, 16), 0);
    session.run_next(&HashMap::new()).expect("grayscale");
    assert!(session.finish().is_err());
}

#[test]
fn decoding_twice_keeps_the_decoded_pixels() {
    let chain = Chain::parse(&json!([{"op":"grayscale"}])).expect("chain");
    let mut session = Session::start(chain.steps(), Format::Jpeg, LIMITS, jpeg(16, 8), 0);
    session.decode().expect("decodes");
    session.decode().expect("a second decode is a no-op");
    assert_eq!(session.run_next(&HashMap::new()).expect("runs"), (16, 8));
}

#[test]
fn a_max_bytes_encode_advances_one_encode_at_a_time_and_ends_as_run_straight_through() {
    let chain =
        Chain::parse(&json!([{"op":"resize","width":96},{"op":"encode","format":"jpeg","quality":95,"max_bytes":1500}])).expect("chain");
    let input = jpeg(128, 96);
    let mut session = Session::start(chain.steps(), Format::Jpeg, LIMITS, input.clone(), 0);
    assert_eq!(session.advance(&HashMap::new()).expect("resize"), Advance::Ran((96, 72)));
    let mut attempts = Vec::new();
    loop {
        match session.advance(&HashMap::new()).expect("encode") {
            Advance::Encoding(attempt) => attempts.push(attempt),
            Advance::Ran(dims) => {
                assert_eq!(dims, (96, 72));
                break;
            }
        }
        assert!(!session.is_done(), "the step is not over while it reports encodes");
    }
    let out = session.finish().expect("result");
    let straight = run_chain(&chain, input, LIMITS, &HashMap::new()).expect("runs");
    assert_eq!(out.bytes, straight.bytes, "the same output as a session that never stopped between encodes");
    let search = out.search.expect("a search was made");
    assert!(attempts.len() > 1 && attempts.len() == usize::from(search.attempts), "{attempts:?}");
    assert!(!attempts[0].fits && attempts[0].quality == 95, "{attempts:?}");
    assert!(attempts.iter().any(|a| a.fits && a.quality == search.quality && a.bytes <= 1500), "{attempts:?} vs {search:?}");
}

#[test]
fn a_max_bytes_search_counts_the_metadata_it_keeps() {
    // 2 KB of XMP kept: an encode that fits on its own but not with the XMP written in must not
    // be the answer, since `max_bytes` bounds the file the client downloads.
    let packet = format!("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><!-- {} --></x:xmpmeta>", "p".repeat(2000));
    let mut app1 = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    app1.extend_from_slice(packet.as_bytes());
    let mut input = jpeg(128, 96);
    let segment = [&[0xFF, 0xE1][..], &((app1.len() + 2) as u16).to_be_bytes(), &app1].concat();
    input.splice(2..2, segment);
    let max = 3_000;
    let steps = json!([{"op":"encode","format":"jpeg","quality":95,"max_bytes":max,"metadata":"keep"}]);
    let out = run(steps, input).expect("a quality fits with the XMP in");
    assert!(out.bytes.len() <= max, "{} bytes for max_bytes {max}", out.bytes.len());
    assert!(out.bytes.windows(2000).any(|w| w.iter().all(|&b| b == b'p')), "the XMP is kept");
}
