//! The AVIF box rewrite on our encoder's own files: what it adds is where readers look, the
//! items already there still point at their bytes, and a damaged file is an error, not a panic.
//! (functions/tests/metadata_exiftool.rs and avif_decode.rs read the results with exiftool and
//! libavif.)

use super::avif_boxes::{add, BoxError};
use super::tests::source_exif;
use crate::ops::avif::encode;
use crate::raster::{Layout, Raster};

const ICC: &[u8] = include_bytes!("../../tests/fixtures/icc/DisplayP3.icc");
const XMP: &[u8] = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"/>"#;

/// An 8×6 AVIF from our encoder, with an alpha item when `alpha`, and the Exif item.
fn avif(alpha: bool) -> Vec<u8> {
    let pixels = (0..8 * 6 * 4).map(|i| if alpha && i % 4 == 3 { 100 } else { (i * 7 % 251) as u8 }).collect();
    let raster = Raster { width: 8, height: 6, layout: Layout::Rgba8, pixels };
    let mut out = Vec::new();
    encode(&raster, 60, 10, Some(&source_exif()), &mut out).expect("encodes");
    out
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The payloads `iloc` points at, item by item, read with a reader written for this test (no
/// base offsets: what avif-serialize and our rewrite write, version 0, 4-byte fields).
fn items(file: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let at = file.windows(4).position(|w| w == b"iloc").expect("iloc") + 4;
    assert_eq!(&file[at..at + 6], &[0, 0, 0, 0, 0x44, 0], "version 0, 4-byte offsets and lengths");
    let be = |i: usize, n: usize| file[i..i + n].iter().fold(0usize, |v, &b| v << 8 | usize::from(b));
    let mut i = at + 8;
    (0..be(at + 6, 2))
        .map(|_| {
            let (id, extents) = (be(i, 2) as u16, be(i + 4, 2));
            i += 6;
            let mut data = Vec::new();
            for _ in 0..extents {
                data.extend_from_slice(&file[be(i, 4)..be(i, 4) + be(i + 4, 4)]);
                i += 8;
            }
            (id, data)
        })
        .collect()
}

#[test]
fn adding_nothing_gives_back_the_same_file() {
    for alpha in [false, true] {
        let file = avif(alpha);
        assert_eq!(add(&file, None, None).expect("rewrites"), file, "alpha {alpha}");
    }
}

#[test]
fn the_existing_items_still_point_at_their_bytes_after_meta_grows() {
    for alpha in [false, true] {
        let file = avif(alpha);
        let before = items(&file);
        let after = items(&add(&file, Some(ICC), Some(XMP)).expect("rewrites"));
        assert_eq!(after.len(), before.len() + 1, "one more item: the XMP");
        assert_eq!(&after[..before.len()], &before[..], "colour, alpha and Exif payloads unchanged");
        assert_eq!(after.last(), Some(&(4, XMP.to_vec())), "the XMP item (next free id) holds the packet");
    }
}

#[test]
fn the_profile_is_one_colr_prof_property_holding_the_whole_profile() {
    let out = add(&avif(false), Some(ICC), None).expect("rewrites");
    let at = out.windows(8).position(|w| w == b"colrprof").expect("a colr prof box");
    let size = u32::from_be_bytes([out[at - 4], out[at - 3], out[at - 2], out[at - 1]]) as usize;
    assert_eq!(&out[at + 8..at - 4 + size], ICC, "the box holds the whole profile");
    assert_eq!(count(&out, b"colrprof"), 1);
    assert_eq!(count(&out, b"mime"), 0, "no XMP item asked for");
}

#[test]
fn the_xmp_item_is_a_mime_item_described_by_the_primary_and_closes_mdat() {
    let out = add(&avif(false), None, Some(XMP)).expect("rewrites");
    assert!(out.ends_with(XMP));
    assert_eq!(count(&out, b"mime\0application/rdf+xml\0"), 1, "infe with its content type");
    // cdsc references: the Exif item's (3 → 1) and the XMP's (4 → 1).
    assert_eq!(count(&out, b"cdsc\0\x03\0\x01\0\x01"), 1);
    assert_eq!(count(&out, b"cdsc\0\x04\0\x01\0\x01"), 1);
    let mdat = out.windows(4).position(|w| w == b"mdat").expect("mdat") - 4;
    let size = u32::from_be_bytes([out[mdat], out[mdat + 1], out[mdat + 2], out[mdat + 3]]) as usize;
    assert_eq!(mdat + size, out.len(), "mdat runs to the end, packet included");
    assert_eq!(count(&out, b"colrprof"), 0, "no profile asked for");
}

#[test]
fn a_damaged_file_is_an_error_never_a_panic() {
    let file = avif(true);
    let meta_end = file.windows(4).position(|w| w == b"mdat").expect("mdat");
    // Every cut inside the header boxes, and every byte of them set to 0xFF in turn.
    for len in 0..meta_end {
        let _ = add(&file[..len], Some(ICC), Some(XMP));
    }
    for i in 0..meta_end {
        let mut bad = file.clone();
        bad[i] = 0xFF;
        let _ = add(&bad, Some(ICC), Some(XMP));
    }
    assert_eq!(add(&file[..24], None, Some(XMP)), Err(BoxError::Missing("meta")));
    assert!(add(b"not an avif at all", Some(ICC), None).is_err());
}

#[test]
fn an_iloc_whose_extents_read_no_bytes_is_refused_rather_than_looped_over() {
    let mut file = avif(false);
    let at = file.windows(4).position(|w| w == b"iloc").expect("iloc") + 4;
    // Offsets and lengths of 0 bytes, and 65,535 extents for the first item.
    file[at + 4] = 0x00;
    file[at + 8 + 4] = 0xFF;
    file[at + 8 + 5] = 0xFF;
    match add(&file, Some(ICC), Some(XMP)) {
        Err(e) => assert_eq!(e, BoxError::Unsupported("iloc")),
        Ok(out) => panic!("rewritten into {} bytes (from {})", out.len(), file.len()),
    }
}
