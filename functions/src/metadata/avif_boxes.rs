//! Writing into our AVIF outputs what their container writer cannot: the source's ICC profile,
//! as a `colr` property of colour type `prof`, and an XMP packet, as a `mime` item.
//!
//! Why hand-written: ravif (0.13, the newest) writes its files with avif-serialize (0.8.9, the
//! newest), which stores an Exif item and at most an `nclx` colour description (code points,
//! which our BT.601 full-range output leaves to the AV1 header), no profile, no XMP item. The boxes involved are few and small (ISO/IEC 14496-12, and 23008-12 for HEIF): a
//! property appended to `ipco` and associated (not essential) with the primary item in `ipma`;
//! an item declared in `iinf` (`infe` version 2, type `mime`, content type
//! `application/rdf+xml`), located by `iloc`, tied to the primary item by an `iref` `cdsc`. HEIF
//! allows one `colr` of each colour type on an item, so the profile goes beside any `nclx`: that
//! keeps the matrix and range the AV1 samples need, the profile says which colours they are.
//!
//! The packet goes at the end of `mdat` (a file offset, construction method 0, as the Exif item
//! is stored), so `iloc` keeps its version; `meta` comes before `mdat` and grows, so every file
//! offset past it moves by that growth. Only our own encoder's output comes here, yet it is read
//! defensively: a layout this writer does not know is a [`BoxError`], never a panic. The file is
//! copied once, after the encoder has returned, into memory its plan counted and it has freed
//! ([`crate::ops::avif::work_bytes`]).

#[path = "avif_iloc.rs"]
mod iloc;

use iloc::Iloc;
use std::ops::Range;
use thiserror::Error;

/// Why the boxes could not be written (the caller fails the step: [`super::embed`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BoxError {
    #[error("the {0} box is cut short")]
    Truncated(&'static str),
    #[error("no {0} box")]
    Missing(&'static str),
    #[error("the {0} box has a layout this writer does not handle")]
    Unsupported(&'static str),
    #[error("a box or an offset would pass 4 GiB")]
    TooLarge,
}

/// The XMP item's MIME type (XMP part 3, 1.1.3).
const XMP_TYPE: &[u8] = b"application/rdf+xml\0";

/// `avif` (ravif's output) with `icc` as its primary item's profile and `xmp` as an XMP item.
pub fn add(avif: &[u8], icc: Option<&[u8]>, xmp: Option<&[u8]>) -> Result<Vec<u8>, BoxError> {
    let top = children(avif, 0..avif.len(), "file")?;
    let meta = find(&top, b"meta", "meta")?;
    let mdat = find(&top, b"mdat", "mdat")?;
    // The packet is appended to `mdat`, so it must close the file, after `meta`.
    if mdat.end != avif.len() || mdat.start < meta.end || mdat.header != 8 || meta.header != 8 {
        return Err(BoxError::Unsupported("mdat"));
    }
    let inner = children(avif, meta.body.start + 4..meta.end, "meta")?;
    let iloc = Iloc::parse(avif, find(&inner, b"iloc", "iloc")?)?;
    let (mut rest, xmp_id) = grown_children(avif, &inner, icc, xmp.is_some())?;
    let xmp_len = xmp.map_or(0, <[u8]>::len);
    let iloc_len = iloc.write(0, meta.end, xmp_id.map(|id| (id, 0, xmp_len)))?.len();
    let new_meta = 12 + iloc_len + rest.iter().map(Vec::len).sum::<usize>();
    let grown = new_meta.checked_sub(meta.end - meta.start).ok_or(BoxError::Unsupported("meta"))?;
    let xmp_at = avif.len() + grown;
    let at = inner.iter().position(|b| &b.kind == b"iloc").unwrap_or(0);
    rest.insert(at, iloc.write(grown as u64, meta.end, xmp_id.map(|id| (id, xmp_at, xmp_len)))?);

    let mut out = Vec::with_capacity(xmp_at + xmp_len);
    out.extend_from_slice(&avif[..meta.start]);
    out.extend_from_slice(&u32::try_from(new_meta).map_err(|_| BoxError::TooLarge)?.to_be_bytes());
    out.extend_from_slice(&avif[meta.start + 4..meta.body.start + 4]);
    rest.iter().for_each(|b| out.extend_from_slice(b));
    drop(rest);
    out.extend_from_slice(&avif[meta.end..]);
    out.extend_from_slice(xmp.unwrap_or_default());
    let mdat_at = mdat.start + grown;
    let mdat_len = u32::try_from(out.len() - mdat_at).map_err(|_| BoxError::TooLarge)?;
    out[mdat_at..mdat_at + 4].copy_from_slice(&mdat_len.to_be_bytes());
    Ok(out)
}

/// `meta`'s children but `iloc` (whose size does not depend on the offsets it holds), with the
/// profile and the XMP item's entries; and the XMP item's id.
fn grown_children(avif: &[u8], inner: &[Bx], icc: Option<&[u8]>, xmp: bool) -> Result<(Vec<Vec<u8>>, Option<u64>), BoxError> {
    let primary = primary_id(avif, find(inner, b"pitm", "pitm")?)?;
    let xmp_id = if xmp { Some(next_item_id(avif, find(inner, b"iinf", "iinf")?)?) } else { None };
    if icc.is_some() {
        find(inner, b"iprp", "iprp")?;
    }
    let mut rest = Vec::with_capacity(inner.len() + 1);
    for child in inner {
        match (&child.kind, icc, xmp_id) {
            (b"iloc", ..) => {}
            (b"iprp", Some(icc), _) => rest.push(with_profile(avif, child, primary, icc)?),
            (b"iinf", _, Some(id)) => rest.push(with_xmp_info(avif, child, id)?),
            (b"iref", _, Some(id)) => rest.push(with_reference(avif, child, id, primary)?),
            _ => rest.push(avif[child.start..child.end].to_vec()),
        }
    }
    if let (Some(id), Err(_)) = (xmp_id, find(inner, b"iref", "iref")) {
        let mut body = vec![0; 4];
        body.extend(reference(id, primary, 0)?);
        rest.push(boxed(b"iref", &body)?);
    }
    Ok((rest, xmp_id))
}

/// One box in the buffer: its type, where it starts and ends, its header's length, its body.
struct Bx {
    kind: [u8; 4],
    start: usize,
    end: usize,
    header: usize,
    body: Range<usize>,
}

/// The boxes that tile `range` of `buf` (a box of size 0 runs to the end of the range).
fn children(buf: &[u8], range: Range<usize>, parent: &'static str) -> Result<Vec<Bx>, BoxError> {
    let mut out = Vec::new();
    let mut at = range.start;
    while at < range.end {
        let mut r = Reader { buf, at, end: range.end, what: parent };
        let size = r.uint(4)?;
        let kind = r.uint(4)?.to_be_bytes();
        let kind = [kind[4], kind[5], kind[6], kind[7]];
        let size = match size {
            0 => (range.end - at) as u64,
            1 => r.uint(8)?,
            n => n,
        };
        let header = r.at - at;
        let end = usize::try_from(size).ok().and_then(|s| at.checked_add(s)).filter(|&e| e <= range.end && e >= r.at);
        let end = end.ok_or(BoxError::Truncated(parent))?;
        out.push(Bx { kind, start: at, end, header, body: r.at..end });
        at = end;
    }
    Ok(out)
}

fn find<'a>(boxes: &'a [Bx], kind: &[u8; 4], name: &'static str) -> Result<&'a Bx, BoxError> {
    boxes.iter().find(|b| &b.kind == kind).ok_or(BoxError::Missing(name))
}

/// A box of `kind` around `body` (a full box's body starts with its version and flags).
fn boxed(kind: &[u8; 4], body: &[u8]) -> Result<Vec<u8>, BoxError> {
    let size = u32::try_from(body.len() + 8).map_err(|_| BoxError::TooLarge)?;
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    Ok(out)
}

/// A big-endian reader over part of the buffer.
struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
    end: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader past a full box's version and flags, with the version.
    fn full(buf: &'a [u8], b: &Bx, what: &'static str) -> Result<(Self, u8), BoxError> {
        let mut r = Reader { buf, at: b.body.start, end: b.end, what };
        let version = r.uint(1)? as u8;
        r.skip(3)?;
        Ok((r, version))
    }

    /// An unsigned integer of `bytes` (at most 8) bytes.
    fn uint(&mut self, bytes: usize) -> Result<u64, BoxError> {
        let start = self.at;
        self.skip(bytes.min(8))?;
        Ok(self.buf[start..self.at].iter().fold(0, |v, &b| v << 8 | u64::from(b)))
    }

    fn skip(&mut self, bytes: usize) -> Result<(), BoxError> {
        let end = self.at.checked_add(bytes).filter(|&e| e <= self.end && e <= self.buf.len());
        self.at = end.ok_or(BoxError::Truncated(self.what))?;
        Ok(())
    }
}

/// Appends `value`'s low `bytes` bytes to `out`, big-endian, refusing a value that does not fit.
fn put(out: &mut Vec<u8>, value: u64, bytes: usize) -> Result<(), BoxError> {
    if bytes < 8 && value >> (8 * bytes) != 0 {
        return Err(BoxError::TooLarge);
    }
    out.extend_from_slice(&value.to_be_bytes()[8 - bytes..]);
    Ok(())
}

/// The bytes an item id takes in a box of `version`: 2, or 4 from version `wide_from` on.
fn id_bytes(version: u8, wide_from: u8) -> usize {
    2 + 2 * usize::from(version >= wide_from)
}

fn primary_id(buf: &[u8], pitm: &Bx) -> Result<u64, BoxError> {
    let (mut r, version) = Reader::full(buf, pitm, "pitm")?;
    r.uint(id_bytes(version, 1))
}

/// One past the largest item id `iinf` declares (16 bits: the `infe` version 2 we write).
fn next_item_id(buf: &[u8], iinf: &Bx) -> Result<u64, BoxError> {
    let (r, version) = Reader::full(buf, iinf, "iinf")?;
    let mut largest = 0;
    for infe in children(buf, r.at + id_bytes(version, 1)..iinf.end, "iinf")? {
        let (mut e, v) = Reader::full(buf, &infe, "infe")?;
        largest = largest.max(e.uint(id_bytes(v, 3))?);
    }
    Some(largest + 1).filter(|&id| id <= 0xFFFF).ok_or(BoxError::Unsupported("iinf"))
}

/// `iinf` with one more entry: the XMP item `id` (`infe` version 2: id, protection index 0,
/// type `mime`, an empty name, the content type).
fn with_xmp_info(buf: &[u8], iinf: &Bx, id: u64) -> Result<Vec<u8>, BoxError> {
    let (mut r, version) = Reader::full(buf, iinf, "iinf")?;
    let count_bytes = id_bytes(version, 1);
    let count = r.uint(count_bytes)? + 1;
    let mut body = buf[iinf.body.start..iinf.body.start + 4].to_vec();
    put(&mut body, count, count_bytes)?;
    body.extend_from_slice(&buf[r.at..iinf.end]);
    let mut infe = vec![2, 0, 0, 0];
    put(&mut infe, id, 2)?;
    infe.extend_from_slice(&[0, 0]);
    infe.extend_from_slice(b"mime\0");
    infe.extend_from_slice(XMP_TYPE);
    body.extend(boxed(b"infe", &infe)?);
    boxed(b"iinf", &body)
}

/// A `cdsc` reference (the item `from` describes the item `to`) in an `iref` of `version`.
fn reference(from: u64, to: u64, version: u8) -> Result<Vec<u8>, BoxError> {
    let mut body = Vec::new();
    put(&mut body, from, id_bytes(version, 1))?;
    put(&mut body, 1, 2)?;
    put(&mut body, to, id_bytes(version, 1))?;
    boxed(b"cdsc", &body)
}

fn with_reference(buf: &[u8], iref: &Bx, from: u64, to: u64) -> Result<Vec<u8>, BoxError> {
    let (_, version) = Reader::full(buf, iref, "iref")?;
    let mut body = buf[iref.body.clone()].to_vec();
    body.extend(reference(from, to, version)?);
    boxed(b"iref", &body)
}

/// `iprp` with the profile as one more property of `ipco`, associated with the `primary` item.
fn with_profile(buf: &[u8], iprp: &Bx, primary: u64, icc: &[u8]) -> Result<Vec<u8>, BoxError> {
    let parts = children(buf, iprp.body.clone(), "iprp")?;
    let ipco = find(&parts, b"ipco", "ipco")?;
    // Property indices count from 1 in `ipco`'s order; the new one comes last.
    let index = children(buf, ipco.body.clone(), "ipco")?.len() as u64 + 1;
    let (mut body, mut associated) = (Vec::new(), false);
    for part in &parts {
        match &part.kind {
            b"ipco" => {
                let mut props = buf[part.body.clone()].to_vec();
                props.extend(boxed(b"colr", &[b"prof", icc].concat())?);
                body.extend(boxed(b"ipco", &props)?);
            }
            b"ipma" if !associated => {
                let (ipma, done) = with_association(buf, part, primary, index)?;
                body.extend(ipma);
                associated = done;
            }
            _ => body.extend_from_slice(&buf[part.start..part.end]),
        }
    }
    if !associated {
        return Err(BoxError::Missing("ipma entry of the primary item"));
    }
    boxed(b"iprp", &body)
}

/// `ipma` with property `index` associated (not essential) with the `item`, and whether that
/// item has an entry there.
fn with_association(buf: &[u8], ipma: &Bx, item: u64, index: u64) -> Result<(Vec<u8>, bool), BoxError> {
    let (mut r, version) = Reader::full(buf, ipma, "ipma")?;
    // Flag 1: 15-bit property indices, else 7-bit; the top bit is `essential`.
    let index_bytes = if buf[ipma.body.start + 3] & 1 == 1 { 2 } else { 1 };
    if index >> (8 * index_bytes - 1) != 0 {
        return Err(BoxError::Unsupported("ipma"));
    }
    let count = r.uint(4)?;
    let mut body = buf[ipma.body.start..r.at].to_vec();
    let mut found = false;
    for _ in 0..count {
        let id = r.uint(id_bytes(version, 1))?;
        let associations = r.uint(1)?;
        let start = r.at;
        r.skip(associations as usize * index_bytes)?;
        let adds = id == item && !found;
        put(&mut body, id, id_bytes(version, 1))?;
        put(&mut body, associations + u64::from(adds), 1).map_err(|_| BoxError::Unsupported("ipma"))?;
        body.extend_from_slice(&buf[start..r.at]);
        if adds {
            put(&mut body, index, index_bytes)?;
            found = true;
        }
    }
    body.extend_from_slice(&buf[r.at..ipma.end]);
    Ok((boxed(b"ipma", &body)?, found))
}
