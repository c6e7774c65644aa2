//! Finding the metadata blocks in a JPEG, PNG or WebP source, by walking its segments or chunks
//! (a few dozen lines each; the decoders we use do not hand these blocks out).

use crate::format::Format;

pub(super) const EXIF_HEADER: &[u8] = b"Exif\0\0";
pub(super) const XMP_HEADER: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
pub(super) const PHOTOSHOP_HEADER: &[u8] = b"Photoshop 3.0\0";
pub(super) const XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";

/// The blocks found, uncapped, borrowed from the file: the caller copies those under its caps
/// only (a block is as large as its file allows; a copy of it first would be memory no plan
/// counts).
#[derive(Debug, Default)]
pub struct Found<'a> {
    pub exif: Option<&'a [u8]>,
    pub xmp: Option<&'a [u8]>,
    pub iptc: Option<&'a [u8]>,
}

pub fn blocks(bytes: &[u8], format: Format) -> Found<'_> {
    match format {
        Format::Jpeg => jpeg(bytes),
        Format::Png => png(bytes),
        Format::Webp => webp(bytes),
        _ => Found::default(),
    }
}

fn jpeg(bytes: &[u8]) -> Found<'_> {
    let mut found = Found::default();
    let mut at = 2;
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) {
        // The entropy-coded data follows SOS: no metadata after it.
        if marker == 0xDA {
            break;
        }
        let Some(len) = bytes.get(at + 2..at + 4).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) else { break };
        let Some(payload) = bytes.get(at + 4..at + 2 + len.max(2)) else { break };
        match marker {
            0xE1 if payload.starts_with(EXIF_HEADER) && found.exif.is_none() => found.exif = Some(&payload[EXIF_HEADER.len()..]),
            0xE1 if payload.starts_with(XMP_HEADER) && found.xmp.is_none() => found.xmp = Some(&payload[XMP_HEADER.len()..]),
            0xED if payload.starts_with(PHOTOSHOP_HEADER) && found.iptc.is_none() => {
                found.iptc = Some(&payload[PHOTOSHOP_HEADER.len()..]);
            }
            _ => {}
        }
        at += 2 + len;
    }
    found
}

fn png(bytes: &[u8]) -> Found<'_> {
    let mut found = Found::default();
    for (tag, data) in chunks(bytes, 8, PNG_CHUNKS) {
        match tag {
            b"eXIf" => found.exif = Some(data),
            b"iTXt" => found.xmp = found.xmp.take().or_else(|| xmp_of_itxt(data)),
            b"IEND" => break,
            _ => {}
        }
    }
    found
}

/// The text of an uncompressed iTXt chunk with the XMP keyword.
fn xmp_of_itxt(data: &[u8]) -> Option<&[u8]> {
    let rest = data.strip_prefix(XMP_KEYWORD)?.strip_prefix(b"\0")?;
    // Compression flag 0 (uncompressed) and method, then language and translated keyword.
    let rest = rest.strip_prefix(&[0, 0])?;
    let after_lang = rest.get(rest.iter().position(|&b| b == 0)? + 1..)?;
    let text = after_lang.get(after_lang.iter().position(|&b| b == 0)? + 1..)?;
    Some(text)
}

fn webp(bytes: &[u8]) -> Found<'_> {
    let mut found = Found::default();
    for (tag, data) in chunks(bytes, 12, WEBP_CHUNKS) {
        match tag {
            // Some writers keep JPEG's "Exif\0\0" header in the chunk.
            b"EXIF" => found.exif = Some(data.strip_prefix(EXIF_HEADER).unwrap_or(data)),
            b"XMP " => found.xmp = Some(data),
            _ => {}
        }
    }
    found
}

/// How a container lays out its chunks: an 8-byte head holding a 4-byte tag and a 4-byte length,
/// then the data, then a trailer (PNG's CRC) and, in RIFF, a pad byte after odd lengths.
struct ChunkLayout {
    tag_at: usize,
    len_at: usize,
    big_endian: bool,
    trailer: usize,
    pad_odd: bool,
}

const PNG_CHUNKS: ChunkLayout = ChunkLayout { tag_at: 4, len_at: 0, big_endian: true, trailer: 4, pad_odd: false };
const WEBP_CHUNKS: ChunkLayout = ChunkLayout { tag_at: 0, len_at: 4, big_endian: false, trailer: 0, pad_odd: true };

/// The `(tag, data)` of every whole chunk from `start` on; it stops at the first chunk that
/// runs past the end, so a truncated or lying length never reads out of bounds.
fn chunks(bytes: &[u8], start: usize, layout: ChunkLayout) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut at = start;
    std::iter::from_fn(move || {
        let head = bytes.get(at..at + 8)?;
        let l = [head[layout.len_at], head[layout.len_at + 1], head[layout.len_at + 2], head[layout.len_at + 3]];
        let len = if layout.big_endian { u32::from_be_bytes(l) } else { u32::from_le_bytes(l) } as usize;
        let data = bytes.get(at + 8..(at + 8).saturating_add(len))?;
        let pad = if layout.pad_odd { len & 1 } else { 0 };
        at = at.saturating_add(8 + layout.trailer).saturating_add(len + pad);
        Some((&head[layout.tag_at..layout.tag_at + 4], data))
    })
}
