//! The policies' EXIF rewriting, and the blocks surviving a write into each container.

use super::*;
use ::exif::experimental::Writer;
use ::exif::{Field, In, Reader, Tag, Value};
use std::io::Cursor;

fn ascii(tag: Tag, text: &str) -> Field {
    Field { tag, ifd_num: In::PRIMARY, value: Value::Ascii(vec![text.as_bytes().to_vec()]) }
}

/// A source EXIF with Orientation 6, Artist, Copyright, Make and a GPS latitude.
pub(super) fn source_exif() -> Vec<u8> {
    let fields = [
        Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![6]) },
        ascii(Tag::Artist, "Ada"),
        ascii(Tag::Copyright, "(c) Ada"),
        ascii(Tag::Make, "Camera"),
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
    ];
    let mut writer = Writer::new();
    fields.iter().for_each(|f| writer.push_field(f));
    let mut out = Cursor::new(Vec::new());
    writer.write(&mut out, false).unwrap();
    out.into_inner()
}

fn tags(tiff: &[u8]) -> Vec<Tag> {
    Reader::new().read_raw(tiff.to_vec()).unwrap().fields().map(|f| f.tag).collect()
}

fn source() -> SourceMetadata {
    SourceMetadata { exif: Some(source_exif()), xmp: Some(b"<x:xmpmeta/>".to_vec()), iptc: Some(b"8BIM".to_vec()), icc: None }
}

#[test]
fn keep_resets_orientation_to_1_and_keeps_the_rest_with_gps() {
    let kept = source().for_policy(MetadataPolicy::Keep);
    let exif = Reader::new().read_raw(kept.exif.unwrap()).unwrap();
    assert_eq!(exif.get_field(Tag::Orientation, In::PRIMARY).and_then(|f| f.value.get_uint(0)), Some(1));
    for tag in [Tag::Artist, Tag::Copyright, Tag::Make, Tag::GPSLatitudeRef] {
        assert!(exif.get_field(tag, In::PRIMARY).is_some(), "{tag} kept");
    }
    assert_eq!(kept.xmp.as_deref(), Some(&b"<x:xmpmeta/>"[..]));
    assert!(kept.iptc.is_some());
}

#[test]
fn copyright_keeps_only_artist_and_copyright() {
    let kept = source().for_policy(MetadataPolicy::Copyright);
    let mut found = tags(&kept.exif.unwrap());
    found.sort_by_key(|t| t.number());
    assert_eq!(found, vec![Tag::Artist, Tag::Copyright], "no GPS, no Orientation, no Make");
    assert_eq!((kept.xmp, kept.iptc), (None, None));
}

#[test]
fn strip_keeps_nothing() {
    assert!(source().for_policy(MetadataPolicy::Strip).is_empty());
}

#[test]
fn an_exif_that_does_not_parse_is_dropped() {
    let bad = SourceMetadata { exif: Some(b"MM\0*garbage".to_vec()), ..SourceMetadata::default() };
    assert_eq!(bad.for_policy(MetadataPolicy::Keep).exif, None);
}

#[test]
fn oversized_blocks_are_dropped_on_extract() {
    let mut png = vec![0x89, b'P', b'N', b'G', 13, 10, 26, 10];
    embed::png_chunk(&mut png, b"IHDR", &[0; 13]);
    embed::png_chunk(&mut png, b"eXIf", &vec![0; MAX_EXIF + 1]);
    assert_eq!(SourceMetadata::extract(&png, Format::Png).exif, None);
}

/// Encodes a small image in `format`, writes the kept metadata in, and reads it back.
fn round_trip(format: crate::ops::encode::OutputFormat, lossless: bool) {
    use crate::ops::encode::{encode, EncodeParams};
    use crate::raster::{Layout, Raster};
    let raster = Raster { width: 4, height: 3, layout: Layout::Rgb8, pixels: vec![90; 36] };
    let p = EncodeParams { lossless, ..EncodeParams::new(format, 80) };
    let bytes = embed(encode(raster, &p).unwrap(), format.format(), (4, 3), &source(), (MetadataPolicy::Keep, IccPolicy::Convert)).unwrap();
    let back = SourceMetadata::extract(&bytes, format.format());
    assert_eq!(tags(&back.exif.unwrap()).len(), 5, "{format:?}");
    assert_eq!(back.xmp.as_deref(), Some(&b"<x:xmpmeta/>"[..]), "{format:?}");
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (4, 3), "{format:?} still decodes");
}

#[test]
fn kept_metadata_reads_back_from_jpeg_png_and_webp() {
    use crate::ops::encode::OutputFormat;
    round_trip(OutputFormat::Jpeg, false);
    round_trip(OutputFormat::Png, false);
    round_trip(OutputFormat::Webp, false);
    round_trip(OutputFormat::Webp, true);
}
