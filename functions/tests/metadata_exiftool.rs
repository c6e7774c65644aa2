//! `encode`'s `metadata` policies, read back from the outputs by an independent reader: Debian's
//! `exiftool` (installed by scripts/setup.sh). The source is a JPEG with EXIF Orientation 6,
//! Artist, Copyright, Make and GPS, and an XMP packet with a title and the rights properties,
//! run through the whole chain; the outputs are JPEG, PNG, WebP and AVIF.

use exif::experimental::Writer;
use exif::{Field, In, Tag, Value};
use functions::chain::Chain;
use functions::plan::Limits;
use functions::session::run_chain;
use serde_json::{json, Map, Value as Json};
use std::collections::HashMap;
use std::io::Cursor;
use std::process::Command;

const LIMITS: Limits = Limits { max_pixels: 100_000_000, memory_budget: 64 << 20 };
const XMP: &str = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour</rdf:li></rdf:Alt></dc:title><dc:creator><rdf:Seq><rdf:li>Ada Lovelace</rdf:li></rdf:Seq></dc:creator><dc:rights><rdf:Alt><rdf:li xml:lang="x-default">(c) 2026 Ada</rdf:li></rdf:Alt></dc:rights></rdf:Description></rdf:RDF></x:xmpmeta>"#;

fn ascii(tag: Tag, text: &str) -> Field {
    Field { tag, ifd_num: In::PRIMARY, value: Value::Ascii(vec![text.as_bytes().to_vec()]) }
}

fn app1(header: &[u8], body: &[u8]) -> Vec<u8> {
    let len = (2 + header.len() + body.len()) as u16;
    [&[0xFF, 0xE1][..], &len.to_be_bytes(), header, body].concat()
}

/// A 32×16 (stored) JPEG whose EXIF says Orientation 6 (upright: 16×32).
fn source() -> Vec<u8> {
    let fields = [
        Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![6]) },
        ascii(Tag::Artist, "Ada Lovelace"),
        ascii(Tag::Copyright, "(c) 2026 Ada"),
        ascii(Tag::Make, "Analytical"),
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
    ];
    let mut writer = Writer::new();
    fields.iter().for_each(|f| writer.push_field(f));
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("exif");
    let mut jpeg = Vec::new();
    let pixels: Vec<u8> = (0..32 * 16 * 3).map(|i| (i % 251) as u8).collect();
    jpeg_encoder::Encoder::new(&mut jpeg, 90).encode(&pixels, 32, 16, jpeg_encoder::ColorType::Rgb).expect("jpeg");
    let segments = [app1(b"Exif\0\0", tiff.get_ref()), app1(b"http://ns.adobe.com/xap/1.0/\0", XMP.as_bytes())].concat();
    [&jpeg[..2], &segments, &jpeg[2..]].concat()
}

/// What exiftool reads in `bytes` (numeric values, group-prefixed names).
fn exiftool(bytes: &[u8], name: &str) -> Map<String, Json> {
    let path = std::env::temp_dir().join(format!("stellar-metadata-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).expect("temp file");
    let out = Command::new("exiftool").args(["-j", "-n", "-G"]).arg(&path).output().expect("exiftool runs (scripts/setup.sh installs it)");
    let _ = std::fs::remove_file(&path);
    let parsed: Json = serde_json::from_slice(&out.stdout).expect("exiftool json");
    parsed.get(0).and_then(Json::as_object).cloned().expect("one file")
}

fn run(format: &str, policy: &str) -> Map<String, Json> {
    let chain = Chain::parse(&json!([{"op": "encode", "format": format, "metadata": policy}])).expect("chain");
    let out = run_chain(&chain, source(), LIMITS, &HashMap::new()).expect("runs");
    assert_eq!((out.width, out.height), (16, 32), "pixels upright");
    exiftool(&out.bytes, &format!("{policy}.{format}"))
}

fn has(tags: &Map<String, Json>, suffix: &str) -> Option<Json> {
    tags.iter().find(|(k, _)| k.ends_with(suffix)).map(|(_, v)| v.clone())
}

#[test]
fn keep_carries_exif_with_orientation_1_gps_and_xmp_in_every_format() {
    for format in ["jpeg", "png", "webp", "avif"] {
        let tags = run(format, "keep");
        assert_eq!(has(&tags, "ExifTool:Warning"), None, "{format}: exiftool reads a sound file");
        assert_eq!(has(&tags, ":Orientation"), Some(json!(1)), "{format}: {tags:?}");
        assert_eq!(has(&tags, ":Artist"), Some(json!("Ada Lovelace")), "{format}");
        assert_eq!(has(&tags, ":Make"), Some(json!("Analytical")), "{format}");
        assert_eq!(has(&tags, ":GPSLatitudeRef"), Some(json!("N")), "{format}");
        assert_eq!(has(&tags, "XMP:Title"), Some(json!("Harbour")), "{format}");
        assert_eq!(has(&tags, "XMP:Rights"), Some(json!("(c) 2026 Ada")), "{format}");
        assert_eq!(has(&tags, "XMP:Creator"), Some(json!("Ada Lovelace")), "{format}");
    }
}

#[test]
fn copyright_carries_only_artist_and_copyright() {
    for format in ["jpeg", "png", "webp", "avif"] {
        let tags = run(format, "copyright");
        assert_eq!(has(&tags, ":Copyright"), Some(json!("(c) 2026 Ada")), "{format}: {tags:?}");
        assert_eq!(has(&tags, ":Artist"), Some(json!("Ada Lovelace")), "{format}");
        assert_eq!(has(&tags, "ExifTool:Warning"), None, "{format}: exiftool reads a sound file");
        // The rights-only XMP packet, in AVIF too.
        assert_eq!(has(&tags, "XMP:Rights"), Some(json!("(c) 2026 Ada")), "{format}");
        assert_eq!(has(&tags, "XMP:Creator"), Some(json!("Ada Lovelace")), "{format}");
        for gone in [":GPSLatitudeRef", ":Make", ":Orientation", "XMP:Title"] {
            assert_eq!(has(&tags, gone), None, "{format}: {gone}");
        }
    }
}

#[test]
fn strip_is_the_default_and_carries_nothing() {
    for format in ["jpeg", "png", "webp", "avif"] {
        let tags = run(format, "strip");
        for gone in [":Artist", ":Copyright", ":GPSLatitudeRef", ":Orientation", "XMP:Title", "XMP:Rights", "XMP:Creator"] {
            assert_eq!(has(&tags, gone), None, "{format}: {gone}");
        }
    }
}

#[test]
fn icc_keep_embeds_the_source_profile_where_exiftool_reads_it_without_warnings() {
    let p3 = include_bytes!("fixtures/icc/p3.png").to_vec();
    for encode in [
        json!({"op": "encode", "format": "jpeg", "icc": "keep"}),
        json!({"op": "encode", "format": "png", "icc": "keep"}),
        json!({"op": "encode", "format": "webp", "icc": "keep"}),
        json!({"op": "encode", "format": "webp", "icc": "keep", "lossless": true, "metadata": "keep"}),
        json!({"op": "encode", "format": "avif", "icc": "keep"}),
        json!({"op": "encode", "format": "avif", "icc": "keep", "metadata": "copyright"}),
    ] {
        let chain = Chain::parse(&json!([encode])).expect("chain");
        let out = run_chain(&chain, p3.clone(), LIMITS, &HashMap::new()).expect("runs");
        let tags = exiftool(&out.bytes, &format!("icc-{}", out.content_type.replace('/', "-")));
        assert_eq!(has(&tags, "ExifTool:Warning"), None, "{encode}: {tags:?}");
        assert_eq!(has(&tags, "ICC_Profile:ProfileDescription"), Some(json!("Display P3")), "{encode}");
    }
}

#[test]
fn convert_leaves_no_profile_in_any_format() {
    let p3 = include_bytes!("fixtures/icc/p3.png").to_vec();
    for format in ["jpeg", "png", "webp", "avif"] {
        let chain = Chain::parse(&json!([{"op": "encode", "format": format}])).expect("chain");
        let out = run_chain(&chain, p3.clone(), LIMITS, &HashMap::new()).expect("runs");
        let tags = exiftool(&out.bytes, &format!("convert.{format}"));
        assert_eq!(has(&tags, "ICC_Profile:ProfileDescription"), None, "{format}: sRGB, no profile: {tags:?}");
    }
}
