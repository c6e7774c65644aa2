//! The `metadata` policies on AVIF outputs, run as a session runs them: the policy's EXIF goes
//! into the file's Exif item, read back here from the item's payload (a 4-byte offset to the
//! TIFF header, then the TIFF structure), and its XMP into an XMP item (IPTC-IIM has no place
//! in HEIF). functions/tests/metadata_exiftool.rs reads them with exiftool.

use super::tests::source_exif;
use super::*;
use crate::plan::Limits;
use crate::session::run_chain;
use ::exif::{In, Reader, Tag};
use serde_json::json;
use std::collections::HashMap;

/// A 4×3 JPEG stored on its side (the source EXIF's Orientation 6), with XMP too.
fn tagged_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(4, 3, |x, y| image::Rgb([x as u8 * 60, y as u8 * 80, 120]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).expect("fixture");
    let meta = SourceMetadata { exif: Some(source_exif()), xmp: Some(b"<x:xmpmeta/>".to_vec()), ..SourceMetadata::default() };
    embed::jpeg(out, &meta)
}

/// The AVIF output of an `encode` with `extra` fields, from [`tagged_jpeg`].
fn avif(extra: serde_json::Value) -> Vec<u8> {
    let mut step = json!({"op": "encode", "format": "avif", "quality": 60});
    step.as_object_mut().expect("object").extend(extra.as_object().expect("fields").clone());
    let chain = crate::Chain::parse(&json!([step])).expect("chain");
    let limits = Limits { max_pixels: 1 << 24, memory_budget: 1 << 30 };
    let out = run_chain(&chain, tagged_jpeg(), limits, &HashMap::new()).expect("runs");
    assert_eq!((out.format, out.width, out.height), (Some(Format::Avif), 3, 4), "upright");
    out.bytes
}

/// The tags of the Exif item's TIFF structure, found after its zero offset; `None` without one.
fn exif_tags(avif: &[u8]) -> Option<exif::Exif> {
    let at = avif.windows(8).position(|w| w == b"\0\0\0\0MM\0*" || w == b"\0\0\0\0II*\0")?;
    Some(Reader::new().read_raw(avif[at + 4..].to_vec()).expect("the Exif item parses"))
}

fn has_exif_item(avif: &[u8]) -> bool {
    avif.windows(4).any(|w| w == b"Exif")
}

#[test]
fn avif_keep_carries_the_exif_with_orientation_1_and_gps() {
    for extra in [json!({"metadata": "keep"}), json!({"metadata": "keep", "max_bytes": 100_000})] {
        let bytes = avif(extra.clone());
        assert!(has_exif_item(&bytes), "{extra}");
        let exif = exif_tags(&bytes).expect("an Exif item");
        assert_eq!(exif.get_field(Tag::Orientation, In::PRIMARY).and_then(|f| f.value.get_uint(0)), Some(1), "{extra}");
        for tag in [Tag::Artist, Tag::Copyright, Tag::Make, Tag::GPSLatitudeRef] {
            assert!(exif.get_field(tag, In::PRIMARY).is_some(), "{tag} kept: {extra}");
        }
        assert!(bytes.ends_with(b"<x:xmpmeta/>"), "the XMP item's packet closes mdat: {extra}");
    }
}

#[test]
fn avif_copyright_carries_only_artist_and_copyright() {
    let bytes = avif(json!({"metadata": "copyright"}));
    let exif = exif_tags(&bytes).expect("an Exif item");
    let mut found: Vec<Tag> = exif.fields().map(|f| f.tag).collect();
    found.sort_by_key(|t| t.number());
    assert_eq!(found, vec![Tag::Artist, Tag::Copyright], "no GPS, no Orientation, no Make");
}

#[test]
fn avif_strip_carries_no_exif_and_no_xmp() {
    let bytes = avif(json!({"metadata": "strip"}));
    assert!(!has_exif_item(&bytes));
    assert!(exif_tags(&bytes).is_none());
    assert!(!bytes.windows(11).any(|w| w == b"<x:xmpmeta/"));
    assert!(!bytes.windows(4).any(|w| w == b"mime"), "no XMP item");
}

#[test]
fn only_avif_takes_the_exif_at_encode_time() {
    let source = SourceMetadata { exif: Some(source_exif()), ..SourceMetadata::default() };
    assert!(encoder_exif(Some(&source), Format::Avif, MetadataPolicy::Keep).is_some());
    assert_eq!(encoder_exif(Some(&source), Format::Avif, MetadataPolicy::Strip), None);
    for format in [Format::Jpeg, Format::Png, Format::Webp] {
        assert_eq!(encoder_exif(Some(&source), format, MetadataPolicy::Keep), None, "{format:?} gets it from embed");
    }
}
