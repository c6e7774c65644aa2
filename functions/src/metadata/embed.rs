//! Writing metadata blocks into our own encoders' outputs: JPEG APP1/APP13 segments, PNG eXIf
//! and iTXt chunks, WebP EXIF/XMP chunks in a VP8X container. The encoders we use write none of
//! these, and their outputs' layout is known (SOI then JFIF; IHDR first; one image chunk or VP8X).

use super::extract::{EXIF_HEADER, PHOTOSHOP_HEADER, XMP_HEADER, XMP_KEYWORD};
use super::SourceMetadata;

/// Most bytes a JPEG segment holds after its marker (the length field counts itself).
const SEGMENT_MAX: usize = 65_533;

pub fn jpeg(encoded: Vec<u8>, meta: &SourceMetadata) -> Vec<u8> {
    let mut segments = Vec::new();
    let mut push = |marker: u8, header: &[u8], body: &[u8]| {
        let len = header.len() + body.len();
        // A block too large for one segment is dropped (extended XMP is not written).
        if len <= SEGMENT_MAX {
            segments.extend_from_slice(&[0xFF, marker]);
            segments.extend_from_slice(&((len + 2) as u16).to_be_bytes());
            segments.extend_from_slice(header);
            segments.extend_from_slice(body);
        }
    };
    meta.exif.iter().for_each(|b| push(0xE1, EXIF_HEADER, b));
    meta.xmp.iter().for_each(|b| push(0xE1, XMP_HEADER, b));
    meta.iptc.iter().for_each(|b| push(0xED, PHOTOSHOP_HEADER, b));
    // After SOI and, when there is one, the JFIF APP0 segment that must come first.
    let mut at = 2;
    if encoded.get(2..4) == Some(&[0xFF, 0xE0]) {
        at += 2 + encoded.get(4..6).map_or(0, |l| usize::from(u16::from_be_bytes([l[0], l[1]])));
    }
    splice(encoded, at, &segments)
}

pub fn png(encoded: Vec<u8>, meta: &SourceMetadata) -> Vec<u8> {
    let mut chunks = Vec::new();
    if let Some(exif) = &meta.exif {
        png_chunk(&mut chunks, b"eXIf", exif);
    }
    if let Some(xmp) = &meta.xmp {
        // Keyword, NUL, uncompressed (0, 0), empty language and translated keyword.
        let mut data = Vec::with_capacity(xmp.len() + XMP_KEYWORD.len() + 5);
        data.extend_from_slice(XMP_KEYWORD);
        data.extend_from_slice(&[0, 0, 0, 0, 0]);
        data.extend_from_slice(xmp);
        png_chunk(&mut chunks, b"iTXt", &data);
    }
    // Right after IHDR (signature 8 + IHDR 25): eXIf must come before the image data.
    splice(encoded, 33, &chunks)
}

pub(super) fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// VP8X flags for EXIF and XMP; alpha (for a VP8L that says it uses alpha).
const EXIF_FLAG: u8 = 0x08;
const XMP_FLAG: u8 = 0x04;
const ALPHA_FLAG: u8 = 0x10;

pub fn webp(encoded: Vec<u8>, (width, height): (u32, u32), meta: &SourceMetadata) -> Vec<u8> {
    let flags = meta.exif.as_ref().map_or(0, |_| EXIF_FLAG) | meta.xmp.as_ref().map_or(0, |_| XMP_FLAG);
    if flags == 0 || encoded.len() < 20 || width == 0 || height == 0 {
        return encoded;
    }
    let mut out =
        Vec::with_capacity(encoded.len() + 18 + meta.exif.as_ref().map_or(0, Vec::len) + meta.xmp.as_ref().map_or(0, Vec::len) + 32);
    out.extend_from_slice(&encoded[..12]);
    if &encoded[12..16] == b"VP8X" {
        out.extend_from_slice(&encoded[12..]);
        out[20] |= flags;
    } else {
        // A simple file (one VP8 or VP8L chunk) becomes an extended one: VP8X goes first.
        let vp8l_alpha = &encoded[12..16] == b"VP8L" && encoded.get(24).is_some_and(|b| b & 0x10 != 0);
        let flags = flags | if vp8l_alpha { ALPHA_FLAG } else { 0 };
        out.extend_from_slice(b"VP8X");
        out.extend_from_slice(&10u32.to_le_bytes());
        out.extend_from_slice(&[flags, 0, 0, 0]);
        out.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
        out.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
        out.extend_from_slice(&encoded[12..]);
    }
    for (kind, data) in [(b"EXIF", &meta.exif), (b"XMP ", &meta.xmp)] {
        if let Some(data) = data {
            out.extend_from_slice(kind);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
            if data.len() % 2 == 1 {
                out.push(0);
            }
        }
    }
    let riff = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    out
}

/// `encoded` with `insert` placed at `at` (the end when `at` is past it).
fn splice(mut encoded: Vec<u8>, at: usize, insert: &[u8]) -> Vec<u8> {
    let at = at.min(encoded.len());
    encoded.splice(at..at, insert.iter().copied());
    encoded
}
