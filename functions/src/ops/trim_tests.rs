//! `trim`: the box it keeps around content on a uniform border, its tolerance, and images that
//! are all border.

use super::*;
use crate::raster::Layout;
use serde_json::json;
use std::collections::HashMap;

fn trimmed(t: Trim, r: Raster) -> (Raster, Option<Region>) {
    t.apply_boxed(r, &ApplyCtx { aux: &HashMap::new(), max_pixels: 1 << 24 }).expect("trim")
}

/// A `w × h` RGB image of `bg` with a `rect` (x, y, w, h) of `fg`.
fn framed(w: u32, h: u32, bg: [u8; 3], fg: [u8; 3], rect: (u32, u32, u32, u32)) -> Raster {
    let mut px = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let inside = x >= rect.0 && x < rect.0 + rect.2 && y >= rect.1 && y < rect.1 + rect.3;
            px.extend_from_slice(if inside { &fg } else { &bg });
        }
    }
    Raster::new(w, h, Layout::Rgb8, px).expect("raster")
}

/// `r` (RGB) as a PNG file.
pub(crate) fn png(r: &Raster) -> Vec<u8> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut out);
    encoder.write_image(&r.pixels, r.width, r.height, image::ColorType::Rgb8).expect("png");
    out
}

#[test]
fn trim_keeps_exactly_the_content_inside_a_uniform_border() {
    let src = framed(40, 30, [255, 255, 255], [200, 10, 10], (7, 5, 20, 11));
    let (out, region) = trimmed(Trim { threshold: 10 }, src);
    assert_eq!(region, Some(Region { x: 7, y: 5, width: 20, height: 11 }));
    assert_eq!((out.width, out.height), (20, 11));
    assert!(out.pixels.chunks_exact(3).all(|p| p == [200, 10, 10]), "only content is left");
}

#[test]
fn differences_within_the_threshold_count_as_border() {
    // A faint smudge (8 levels off) in one corner and real content in the middle.
    let mut src = framed(20, 20, [240, 240, 240], [0, 0, 0], (8, 8, 4, 4));
    src.pixels[(19 * 20 + 19) * 3] = 248;
    assert_eq!(trimmed(Trim { threshold: 10 }, src.clone()).1, Some(Region { x: 8, y: 8, width: 4, height: 4 }));
    // With no tolerance the smudge is content and the box reaches the corner.
    assert_eq!(trimmed(Trim { threshold: 0 }, src).1, Some(Region { x: 8, y: 8, width: 12, height: 12 }));
}

#[test]
fn an_image_that_is_all_border_is_kept_whole() {
    let src = framed(9, 4, [30, 30, 30], [30, 30, 30], (0, 0, 0, 0));
    let (out, region) = trimmed(Trim { threshold: 0 }, src.clone());
    assert_eq!(region, Some(Region::whole(9, 4)));
    assert_eq!(out, src);
}

#[test]
fn a_transparent_border_is_trimmed_by_its_alpha() {
    // Transparent black around an opaque black square: only alpha tells them apart.
    let mut px = vec![0u8; 10 * 10 * 4];
    for y in 2..5 {
        for x in 3..9 {
            px[(y * 10 + x) * 4 + 3] = 255;
        }
    }
    let src = Raster::new(10, 10, Layout::Rgba8, px).expect("raster");
    let (out, region) = trimmed(Trim { threshold: 10 }, src);
    assert_eq!(region, Some(Region { x: 3, y: 2, width: 6, height: 3 }));
    assert_eq!(out.layout, Layout::Rgba8);
}

#[test]
fn trim_runs_in_a_chain_and_the_session_reports_its_box() {
    let src = framed(64, 48, [255, 255, 255], [20, 120, 20], (10, 4, 30, 20));
    let png = png(&src);
    let chain = crate::Chain::parse(&json!([{"op": "trim"}, {"op": "encode", "format": "png"}])).expect("chain");
    let limits = crate::plan::Limits { max_pixels: 1 << 24, memory_budget: 64 << 20 };
    let mut session = crate::session::Session::start(chain.steps(), crate::Format::Png, limits, png, 0);
    session.run_next(&HashMap::new()).expect("trim");
    assert_eq!(session.region(), Some(Region { x: 10, y: 4, width: 30, height: 20 }));
    assert_eq!(session.dims(), (30, 20));
    session.run_next(&HashMap::new()).expect("encode");
    assert_eq!(session.region(), None, "encode keeps no box");
    let out = session.finish().expect("output");
    assert_eq!((out.width, out.height), (30, 20));
}

#[test]
fn threshold_is_bounded_and_defaults_to_ten() {
    let parse = |v: serde_json::Value| crate::Chain::parse(&json!([v]));
    assert!(parse(json!({"op": "trim", "threshold": 256})).is_err());
    let chain = parse(json!({"op": "trim"})).expect("default");
    assert_eq!(chain.steps()[0], crate::Step::Trim(Trim { threshold: 10 }));
}

#[test]
fn a_trim_gives_back_the_memory_of_what_it_cut_away() {
    // Steps after a trim are checked on the kept box: the input's buffer must not stay behind it.
    let (out, _) = trimmed(Trim { threshold: 0 }, framed(1000, 1000, [0, 0, 0], [255, 0, 0], (500, 500, 10, 10)));
    assert_eq!((out.width, out.height, out.pixels.len()), (10, 10, 300));
    assert!(out.pixels.capacity() < 1024, "the kept box still holds {} bytes", out.pixels.capacity());
}
