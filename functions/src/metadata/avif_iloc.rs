//! The `iloc` box of our AVIF outputs, read and written again for [`super::add`]: the offsets
//! of the items stored in `mdat` move when `meta` grows, and the XMP item needs an entry.

use super::{boxed, id_bytes, put, BoxError, Bx, Reader};

/// One `iloc` entry, its base offset folded into its extents' offsets.
pub struct Located {
    id: u64,
    /// Construction method (0: file offset, 1: `idat`, 2: item), from version 1 on.
    method: u64,
    data_reference: u64,
    /// (offset, length) of each extent.
    extents: Vec<(u64, u64)>,
}

/// The `iloc` box as read: what it locates, in its version.
pub struct Iloc {
    version: u8,
    items: Vec<Located>,
}

impl Iloc {
    pub fn parse(buf: &[u8], iloc: &Bx) -> Result<Iloc, BoxError> {
        let (mut r, version) = Reader::full(buf, iloc, "iloc")?;
        let sizes = r.uint(2)?;
        let (offset, length, base) = ((sizes >> 12) as usize, (sizes >> 8 & 15) as usize, (sizes >> 4 & 15) as usize);
        let index = if version >= 1 { sizes & 15 } else { 0 };
        if version > 2 || index != 0 || [offset, length, base].iter().any(|s| ![0, 4, 8].contains(s)) {
            return Err(BoxError::Unsupported("iloc"));
        }
        let count = r.uint(if version < 2 { 2 } else { 4 })?;
        let mut items = Vec::new();
        for _ in 0..count {
            let id = r.uint(id_bytes(version, 2))?;
            let method = if version >= 1 { r.uint(2)? & 15 } else { 0 };
            let data_reference = r.uint(2)?;
            let base = r.uint(base)?;
            let mut extents = Vec::new();
            let count = r.uint(2)?;
            // An extent of 0-byte fields reads nothing: without this, a count of 65,535 would
            // push as many extents per item while the reader stands still.
            if count > 1 && offset + length == 0 {
                return Err(BoxError::Unsupported("iloc"));
            }
            for _ in 0..count {
                let at = base.checked_add(r.uint(offset)?).ok_or(BoxError::TooLarge)?;
                extents.push((at, r.uint(length)?));
            }
            items.push(Located { id, method, data_reference, extents });
        }
        Ok(Iloc { version, items })
    }

    /// The box, in its version with 4-byte offsets and lengths and no base offset: every file
    /// offset from `moved_from` on moved by `grown`, and the XMP item (id, offset, length),
    /// whose offset is already where its packet goes.
    pub fn write(&self, grown: u64, moved_from: usize, xmp: Option<(u64, usize, usize)>) -> Result<Vec<u8>, BoxError> {
        let v = self.version;
        let mut body = vec![v, 0, 0, 0, 0x44, 0];
        let count = self.items.len() + usize::from(xmp.is_some());
        put(&mut body, count as u64, if v < 2 { 2 } else { 4 })?;
        for item in &self.items {
            // Offsets into this file (method 0, data reference 0) past `meta` move.
            let in_file = item.method == 0 && item.data_reference == 0;
            let at = |at: u64| if in_file && at >= moved_from as u64 { at.checked_add(grown) } else { Some(at) };
            let extents = item.extents.iter().map(|&(o, len)| Some((at(o)?, len))).collect::<Option<Vec<_>>>();
            write_item(&mut body, v, item, &extents.ok_or(BoxError::TooLarge)?)?;
        }
        if let Some((id, at, len)) = xmp {
            let packet = Located { id, method: 0, data_reference: 0, extents: vec![(at as u64, len as u64)] };
            write_item(&mut body, v, &packet, &packet.extents)?;
        }
        boxed(b"iloc", &body)
    }
}

/// One entry of an `iloc` of `version`, with `extents` (offset, length) for the item's own.
fn write_item(body: &mut Vec<u8>, version: u8, item: &Located, extents: &[(u64, u64)]) -> Result<(), BoxError> {
    put(body, item.id, id_bytes(version, 2))?;
    if version >= 1 {
        put(body, item.method, 2)?;
    }
    put(body, item.data_reference, 2)?;
    put(body, extents.len() as u64, 2)?;
    for &(at, len) in extents {
        put(body, at, 4)?;
        put(body, len, 4)?;
    }
    Ok(())
}
