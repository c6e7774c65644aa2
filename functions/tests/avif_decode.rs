//! AVIF outputs decoded back by an independent decoder: Debian's `avifdec` (libavif with dav1d,
//! installed by scripts/setup.sh). The whole chain runs as a task does, from a PNG upload; the
//! decoded pixels must match the source closely, alpha included, and the profile and XMP packet
//! written into the container must be ones libavif reads.

use functions::chain::Chain;
use functions::plan::Limits;
use functions::session::run_chain;
use image::{ImageOutputFormat, RgbaImage};
use serde_json::json;
use std::collections::HashMap;
use std::io::Cursor;
use std::process::Command;

const LIMITS: Limits = Limits { max_pixels: 100_000_000, memory_budget: 64 << 20 };

/// A smooth `w × h` RGBA image whose right half is translucent (alpha 96).
fn source(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| image::Rgba([(x * 255 / w) as u8, (y * 255 / h) as u8, 128, if x < w / 2 { 255 } else { 96 }]))
}

fn png(img: &RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::DynamicImage::ImageRgba8(img.clone()).write_to(&mut Cursor::new(&mut out), ImageOutputFormat::Png).expect("png");
    out
}

/// `bytes` decoded by avifdec, as RGBA.
fn avifdec(bytes: &[u8], name: &str) -> RgbaImage {
    let dir = std::env::temp_dir();
    let (input, output) =
        (dir.join(format!("studio-{name}-{}.avif", std::process::id())), dir.join(format!("studio-{name}-{}.png", std::process::id())));
    std::fs::write(&input, bytes).expect("write avif");
    let status = Command::new("avifdec").arg(&input).arg(&output).output().expect("avifdec runs (scripts/setup.sh installs it)");
    let decoded = std::fs::read(&output);
    let _ = (std::fs::remove_file(&input), std::fs::remove_file(&output));
    assert!(status.status.success(), "avifdec refused our output: {}", String::from_utf8_lossy(&status.stderr));
    image::load_from_memory(&decoded.expect("decoded png")).expect("png").to_rgba8()
}

fn mean_abs_diff(a: &RgbaImage, b: &RgbaImage, channel: usize) -> f64 {
    let total: u64 = a.pixels().zip(b.pixels()).map(|(p, q)| u64::from(p.0[channel].abs_diff(q.0[channel]))).sum();
    total as f64 / f64::from(a.width() * a.height())
}

#[test]
fn an_avif_encode_decodes_back_to_the_source_with_its_alpha() {
    let src = source(96, 64);
    let chain = Chain::parse(&json!([{"op": "encode", "format": "avif", "quality": 90}])).expect("chain");
    let out = run_chain(&chain, png(&src), LIMITS, &HashMap::new()).expect("encodes");
    assert_eq!((out.content_type, out.width, out.height), ("image/avif", 96, 64));
    let back = avifdec(&out.bytes, "alpha");
    assert_eq!(back.dimensions(), (96, 64));
    for channel in 0..4 {
        let diff = mean_abs_diff(&src, &back, channel);
        assert!(diff < 3.0, "channel {channel}: mean difference {diff:.2}");
    }
}

#[test]
fn a_resized_avif_has_the_resized_size() {
    let chain = Chain::parse(&json!([{"op": "resize", "width": 50}, {"op": "encode", "format": "avif", "speed": 8}])).expect("chain");
    let out = run_chain(&chain, png(&source(200, 120)), LIMITS, &HashMap::new()).expect("encodes");
    assert_eq!(avifdec(&out.bytes, "resized").dimensions(), (50, 30));
}

/// What `avifdec --info` reports of `bytes` (it decodes every frame, in strict mode).
fn avifdec_info(bytes: &[u8], name: &str) -> String {
    let input = std::env::temp_dir().join(format!("studio-{name}-{}.avif", std::process::id()));
    std::fs::write(&input, bytes).expect("write avif");
    let out = Command::new("avifdec").arg("--info").arg(&input).output().expect("avifdec runs (scripts/setup.sh installs it)");
    let _ = std::fs::remove_file(&input);
    assert!(out.status.success(), "avifdec refused our output: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Display P3 JPEG fixture (96×64) with an XMP packet holding dc:rights after its JFIF APP0.
fn p3_jpeg_with_xmp() -> Vec<u8> {
    let jpeg = include_bytes!("fixtures/icc/p3-jpeg.jpg");
    let app0_end = 4 + usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
    let xmp = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:rights><rdf:Alt><rdf:li xml:lang="x-default">(c) Ada</rdf:li></rdf:Alt></dc:rights></rdf:Description></rdf:RDF></x:xmpmeta>"#;
    let header = b"http://ns.adobe.com/xap/1.0/\0";
    let len = (2 + header.len() + xmp.len()) as u16;
    [&jpeg[..app0_end], &[0xFF, 0xE1], &len.to_be_bytes(), header, xmp, &jpeg[app0_end..]].concat()
}

#[test]
fn an_avif_with_the_kept_profile_and_xmp_decodes_and_libavif_reads_both() {
    let source = p3_jpeg_with_xmp();
    for (policy, icc) in [("keep", "keep"), ("copyright", "keep"), ("keep", "convert"), ("strip", "convert")] {
        let step = json!({"op": "encode", "format": "avif", "metadata": policy, "icc": icc});
        let out = run_chain(&Chain::parse(&json!([step])).expect("chain"), source.clone(), LIMITS, &HashMap::new()).expect("encodes");
        let info = avifdec_info(&out.bytes, &format!("info-{policy}-{icc}"));
        assert!(info.contains("Resolution     : 96x64"), "{step}: {info}");
        assert_eq!(info.contains("ICC Profile    : Present"), icc == "keep", "{step}: {info}");
        assert_eq!(info.contains("XMP Metadata   : Present"), policy != "strip", "{step}: {info}");
        assert_eq!(avifdec(&out.bytes, &format!("pixels-{policy}-{icc}")).dimensions(), (96, 64), "{step}");
    }
}
