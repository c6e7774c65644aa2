//! Our shrink-on-load JPEG decoder: baseline (sequential Huffman, 8-bit) JPEGs decoded straight
//! at 1/2, 1/4 or 1/8 scale, the path every "make it smaller" chain on a camera photo takes.
//!
//! Why it exists: the speed targets (sharp/libjpeg-turbo with its SIMD Huffman decoder)
//! were out of reach with jpeg-decoder on wasm32, where it runs single-threaded and spends most
//! of a scaled decode reading bytes through `io::Read` and zeroing 64-coefficient blocks it then
//! mostly ignores. Here only the coefficients the scaled IDCT needs are kept, and the IDCT is
//! the exact k-point transform of the top-left k×k coefficients (what libjpeg 7+ does).
//!
//! Anything outside that path — progressive or arithmetic coding, 12-bit samples, CMYK or RGB
//! JPEGs, unusual sampling, full-size decodes — and any stream it finds corrupt answers `None`,
//! and the caller decodes with jpeg-decoder as before; so this adds speed, never new failures.

mod bits;
mod color;
pub(crate) mod encode;
mod fdct;
mod huffman;
mod idct;
mod scan;
#[cfg(test)]
mod scan_tests;
pub(crate) mod scans;
mod stripe;
mod tables;
#[cfg(test)]
mod tests;

use crate::planar::Planar;
use huffman::Huffman;
use scan::Plane;

/// One frame component (Y, Cb or Cr) as the SOF and SOS segments describe it.
pub(super) struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
    dc: usize,
    ac: usize,
}

/// A Huffman table as a DHT segment defines it, built into a [`Huffman`] only once the scan
/// names it. Why: building one fills 24 KiB of lookup tables, and a DHT segment may hold
/// thousands of tables (17 bytes each) — built as read, a 50 MiB upload of them cost ~11 s of
/// CPU natively before its scan; now each definition costs a copy of its counts.
#[derive(Clone, Copy)]
struct TableSpec<'a> {
    counts: [u8; 16],
    symbols: &'a [u8],
}

/// Everything read from the segments before the scan.
#[derive(Default)]
struct Header<'a> {
    width: usize,
    height: usize,
    components: Vec<Component>,
    /// Quantisation tables in zigzag order.
    quant: [Option<[u16; 64]>; 4],
    /// The last definition of each table id ([`TableSpec`]).
    dc_spec: [Option<TableSpec<'a>>; 4],
    ac_spec: [Option<TableSpec<'a>>; 4],
    /// The tables the scan uses, built from their definitions by [`read_scan`].
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
    restart_interval: usize,
    /// An Adobe APP14 segment saying the three channels are RGB, not YCbCr.
    adobe_rgb: bool,
}

/// A decoded image at the requested scale: 1 (gray) or 3 (RGB) channels, row-major.
pub(crate) struct Decoded {
    pub width: u32,
    pub height: u32,
    pub channels: usize,
    pub pixels: Vec<u8>,
}

/// Decodes `bytes` at `eighths`/8 scale (1, 2 or 4) if it is a JPEG this path handles, with
/// an output of at most `max_pixels`; `None` means "use the general decoder".
pub(crate) fn decode_scaled(bytes: &[u8], eighths: usize, max_pixels: u64) -> Option<Decoded> {
    let (planes, width, height) = decode_planes(bytes, eighths, max_pixels)?;
    let pixels = color::to_pixels(&planes, width, height);
    Some(Decoded { width: width as u32, height: height as u32, channels: planes.len(), pixels })
}

/// As [`decode_scaled`], but keeps YCbCr 4:2:0 planes as they are; `None` for other samplings.
pub(crate) fn decode_scaled_planar(bytes: &[u8], eighths: usize, max_pixels: u64) -> Option<Planar> {
    let (planes, width, height) = decode_planes(bytes, eighths, max_pixels)?;
    if planes.len() != 3 || planes[1].factor != (2, 2) {
        return None;
    }
    let (cw, ch) = Planar::chroma_dims(width as u32, height as u32);
    // The decoder's planes are padded to whole blocks: copy out the image's own rows.
    let crop = |p: &Plane, w: usize, h: usize| crop(&p.data, p.width, w, h);
    let (y, cb, cr) =
        (crop(&planes[0], width, height), crop(&planes[1], cw as usize, ch as usize), crop(&planes[2], cw as usize, ch as usize));
    Planar::new(width as u32, height as u32, y, cb, cr).ok()
}

/// The top-left `w × h` of a plane `stride` samples wide.
fn crop(data: &[u8], stride: usize, w: usize, h: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(w * h);
    for row in data.chunks_exact(stride).take(h) {
        out.extend_from_slice(&row[..w]);
    }
    out
}

/// RGB pixels from YCbCr 4:2:0 planes (fancy upsampling, JFIF conversion).
pub(crate) fn planes_to_rgb(p: Planar) -> Vec<u8> {
    let (cw, _) = Planar::chroma_dims(p.width, p.height);
    let (w, h) = (p.width as usize, p.height as usize);
    let plane = |data: Vec<u8>, width: usize, factor| Plane { width, data, factor };
    let planes = [plane(p.y, w, (1, 1)), plane(p.cb, cw as usize, (2, 2)), plane(p.cr, cw as usize, (2, 2))];
    color::to_pixels(&planes, w, h)
}

/// The scan decoded into (padded) planes, and the image's size at that scale.
fn decode_planes(bytes: &[u8], eighths: usize, max_pixels: u64) -> Option<(Vec<Plane>, usize, usize)> {
    if !matches!(eighths, 1 | 2 | 4) {
        return None;
    }
    let (header, scan_start) = read_header(bytes)?;
    if (header.width * header.height) as u64 > max_pixels {
        return None;
    }
    let planes = scan::decode(&header, bytes.get(scan_start..)?, eighths)?;
    Some((planes, (header.width * eighths).div_ceil(8), (header.height * eighths).div_ceil(8)))
}

/// Reads segments up to the start of scan; answers the header and where the scan data begins.
fn read_header(bytes: &[u8]) -> Option<(Header<'_>, usize)> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut header = Header::default();
    let mut pos = 2;
    loop {
        // Markers may be preceded by any number of fill bytes (FF).
        if *bytes.get(pos)? != 0xFF {
            return None;
        }
        while *bytes.get(pos + 1)? == 0xFF {
            pos += 1;
        }
        let marker = bytes[pos + 1];
        let len = usize::from(u16::from_be_bytes([*bytes.get(pos + 2)?, *bytes.get(pos + 3)?]));
        let segment = bytes.get(pos + 4..(pos + 2 + len).max(pos + 4))?;
        match marker {
            // Baseline and extended sequential Huffman frames.
            0xC0 | 0xC1 => read_frame(&mut header, segment)?,
            0xC4 => read_huffman(&mut header, segment)?,
            0xDB => read_quant(&mut header, segment)?,
            0xDD => header.restart_interval = usize::from(u16::from_be_bytes([*segment.first()?, *segment.get(1)?])),
            0xEE if segment.starts_with(b"Adobe") => header.adobe_rgb = segment.get(11) == Some(&0),
            0xDA => {
                read_scan(&mut header, segment)?;
                return Some((header, pos + 2 + len));
            }
            // Any other frame type (progressive, lossless, arithmetic), or EOI before a scan.
            0xC2..=0xCF | 0xD9 => return None,
            _ => {}
        }
        pos += 2 + len;
    }
}

fn read_frame(header: &mut Header<'_>, s: &[u8]) -> Option<()> {
    let (precision, n) = (*s.first()?, usize::from(*s.get(5)?));
    header.height = usize::from(u16::from_be_bytes([*s.get(1)?, *s.get(2)?]));
    header.width = usize::from(u16::from_be_bytes([*s.get(3)?, *s.get(4)?]));
    if precision != 8 || header.width == 0 || header.height == 0 || !(n == 1 || n == 3) || !header.components.is_empty() {
        return None;
    }
    for c in s.get(6..6 + 3 * n)?.chunks_exact(3) {
        let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
        header.components.push(Component { id: c[0], h, v, quant: usize::from(c[2]), dc: 0, ac: 0 });
    }
    let comps = &mut header.components;
    if n == 1 {
        // A single component is one block per MCU whatever its factors say.
        (comps[0].h, comps[0].v) = (1, 1);
        return Some(());
    }
    // Luma at 1 or 2 in each direction, chroma at 1: 4:4:4, 4:2:2, 4:4:0 and 4:2:0.
    let luma_ok = (1..=2).contains(&comps[0].h) && (1..=2).contains(&comps[0].v);
    let chroma_ok = comps[1..].iter().all(|c| c.h == 1 && c.v == 1);
    (luma_ok && chroma_ok).then_some(())
}

fn read_huffman<'a>(header: &mut Header<'a>, mut s: &'a [u8]) -> Option<()> {
    while !s.is_empty() {
        let (class, id) = (s[0] >> 4, usize::from(s[0] & 15));
        let counts: [u8; 16] = s.get(1..17)?.try_into().ok()?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let table = TableSpec { counts, symbols: s.get(17..17 + total)? };
        match (class, id) {
            (0, 0..=3) => header.dc_spec[id] = Some(table),
            (1, 0..=3) => header.ac_spec[id] = Some(table),
            _ => return None,
        }
        s = &s[17 + total..];
    }
    Some(())
}

fn read_quant(header: &mut Header<'_>, mut s: &[u8]) -> Option<()> {
    while !s.is_empty() {
        let (precision, id) = (s[0] >> 4, usize::from(s[0] & 15));
        let mut table = [0u16; 64];
        let size = match precision {
            0 => {
                s.get(1..65)?.iter().zip(table.iter_mut()).for_each(|(b, q)| *q = u16::from(*b));
                64
            }
            1 => {
                s.get(1..129)?.chunks_exact(2).zip(table.iter_mut()).for_each(|(b, q)| *q = u16::from_be_bytes([b[0], b[1]]));
                128
            }
            _ => return None,
        };
        *header.quant.get_mut(id)? = Some(table);
        s = &s[1 + size..];
    }
    Some(())
}

fn read_scan(header: &mut Header<'_>, s: &[u8]) -> Option<()> {
    let n = usize::from(*s.first()?);
    // One interleaved scan of every component, all 64 coefficients, no successive approximation.
    if n != header.components.len() || s.get(1 + 2 * n..1 + 2 * n + 3)? != [0, 63, 0] || header.adobe_rgb {
        return None;
    }
    for (i, sel) in s.get(1..1 + 2 * n)?.chunks_exact(2).enumerate() {
        let c = &mut header.components[i];
        if c.id != sel[0] {
            return None;
        }
        (c.dc, c.ac) = (usize::from(sel[1] >> 4), usize::from(sel[1] & 15));
        let (dc, ac) = (c.dc, c.ac);
        if header.quant.get(c.quant)?.is_none() {
            return None;
        }
        build(&mut header.dc, &header.dc_spec, dc)?;
        build(&mut header.ac, &header.ac_spec, ac)?;
    }
    Some(())
}

/// Builds table `id` from its definition unless built already; `None` if it has none or its
/// definition is inconsistent.
fn build(tables: &mut [Option<Huffman>; 4], specs: &[Option<TableSpec>; 4], id: usize) -> Option<()> {
    let slot = tables.get_mut(id)?;
    if slot.is_none() {
        let spec = specs.get(id)?.as_ref()?;
        *slot = Some(Huffman::new(&spec.counts, spec.symbols)?);
    }
    Some(())
}
