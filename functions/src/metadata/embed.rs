//! Writing metadata blocks into our own encoders' outputs: JPEG APP1/APP2/APP13 segments, PNG
//! eXIf, iCCP and iTXt chunks, WebP ICCP/EXIF/XMP chunks in a VP8X container. The encoders we use write none of
//! these, and their outputs' layout is known (SOI then JFIF; IHDR first; one image chunk or VP8X).

use super::extract::{EXIF_HEADER, PHOTOSHOP_HEADER, XMP_HEADER, XMP_KEYWORD};
use super::SourceMetadata;

/// Most bytes a JPEG segment holds after its marker (the length field counts itself).
const SEGMENT_MAX: usize = 65_533;
const ICC_HEADER: &[u8] = b"ICC_PROFILE\0";
/// Profile bytes in one APP2 segment, after its tag, sequence number and count.
const ICC_CHUNK: usize = SEGMENT_MAX - 14;

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
    // A profile is cut into numbered APP2 chunks (ICC.1 annex B.4): 1-based sequence, count.
    if let Some(icc) = &meta.icc {
        let count = icc.len().div_ceil(ICC_CHUNK);
        for (i, chunk) in icc.chunks(ICC_CHUNK).enumerate().take_while(|_| count <= 255) {
            push(0xE2, &[ICC_HEADER, &[i as u8 + 1, count as u8]].concat(), chunk);
        }
    }
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
    if let Some(icc) = &meta.icc {
        // Profile name, NUL, compression method 0 (zlib), then the compressed profile.
        let mut data = b"ICC profile\0\0".to_vec();
        data.extend_from_slice(&fdeflate::compress_to_vec(icc));
        png_chunk(&mut chunks, b"iCCP", &data);
    }
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
    // Right after IHDR (signature 8 + IHDR 25): iCCP and eXIf must come before the image data.
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

/// VP8X flags for the profile, EXIF and XMP; alpha (for a VP8L that says it uses alpha).
const ICC_FLAG: u8 = 0x20;
const EXIF_FLAG: u8 = 0x08;
const XMP_FLAG: u8 = 0x04;
const ALPHA_FLAG: u8 = 0x10;

pub fn webp(encoded: Vec<u8>, (width, height): (u32, u32), meta: &SourceMetadata) -> Vec<u8> {
    let flag = |block: &Option<Vec<u8>>, flag: u8| block.as_ref().map_or(0, |_| flag);
    let flags = flag(&meta.icc, ICC_FLAG) | flag(&meta.exif, EXIF_FLAG) | flag(&meta.xmp, XMP_FLAG);
    if flags == 0 || encoded.len() < 20 || width == 0 || height == 0 {
        return encoded;
    }
    let blocks = [&meta.icc, &meta.exif, &meta.xmp].iter().map(|b| b.as_ref().map_or(0, |b| b.len() + 9)).sum::<usize>();
    let mut out = Vec::with_capacity(encoded.len() + 18 + blocks);
    out.extend_from_slice(&encoded[..12]);
    // The VP8X chunk (8 + 10 bytes) and what follows it.
    let rest = match encoded.get(30..) {
        Some(rest) if &encoded[12..16] == b"VP8X" => {
            out.extend_from_slice(&encoded[12..30]);
            out[20] |= flags;
            rest
        }
        _ => {
            // A simple file (one VP8 or VP8L chunk) becomes an extended one: VP8X goes first.
            let vp8l_alpha = &encoded[12..16] == b"VP8L" && encoded.get(24).is_some_and(|b| b & 0x10 != 0);
            let flags = flags | if vp8l_alpha { ALPHA_FLAG } else { 0 };
            out.extend_from_slice(b"VP8X");
            out.extend_from_slice(&10u32.to_le_bytes());
            out.extend_from_slice(&[flags, 0, 0, 0]);
            out.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
            out.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
            &encoded[12..]
        }
    };
    // ICCP must follow VP8X directly; EXIF and XMP come after the image.
    if let Some(icc) = &meta.icc {
        riff_chunk(&mut out, b"ICCP", icc);
    }
    out.extend_from_slice(rest);
    for (kind, data) in [(b"EXIF", &meta.exif), (b"XMP ", &meta.xmp)] {
        if let Some(data) = data {
            riff_chunk(&mut out, kind, data);
        }
    }
    let riff = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    out
}

fn riff_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(kind);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}

/// Whether our encoder wrote `encoded` (of `format`) in gray, where an RGB profile is invalid:
/// a one-component JPEG frame, a gray PNG (colour type 0 or 4). WebP is always RGB.
pub fn is_gray(encoded: &[u8], format: crate::format::Format) -> bool {
    use crate::format::Format;
    match format {
        Format::Png => matches!(encoded.get(25), Some(0 | 4)),
        Format::Jpeg => {
            let mut at = 2;
            while let (Some(&0xFF), Some(&marker)) = (encoded.get(at), encoded.get(at + 1)) {
                // SOF0 (baseline) and SOF2 (progressive), what our encoders write: the count of
                // components follows the length, precision and size.
                if marker == 0xC0 || marker == 0xC2 {
                    return encoded.get(at + 9) == Some(&1);
                }
                let len = encoded.get(at + 2..at + 4).map_or(0, |l| usize::from(u16::from_be_bytes([l[0], l[1]])));
                at += 2 + len.max(2);
            }
            false
        }
        _ => false,
    }
}

/// `encoded` with `insert` placed at `at` (the end when `at` is past it).
fn splice(mut encoded: Vec<u8>, at: usize, insert: &[u8]) -> Vec<u8> {
    let at = at.min(encoded.len());
    encoded.splice(at..at, insert.iter().copied());
    encoded
}
