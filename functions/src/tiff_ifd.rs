//! A TIFF's first directory, checked before the `tiff` crate reads it: every entry's values
//! must lie inside the file.
//!
//! Why: the `tiff` crate allocates an entry's `count × size` before reading it, and a count is
//! whatever the file says (a single flipped bit makes it billions). Natively that allocation
//! just succeeds, lazily; under the Worker's 128 MiB cap it aborted the module. Values that
//! cannot be in the file are a lie, so such a file is refused here, from its own bytes.

use crate::error::ImageError;

/// Entries a first directory may hold: real files have a few dozen.
const MAX_ENTRIES: usize = 1_000;

fn invalid(why: &str) -> ImageError {
    ImageError::Invalid(format!("the TIFF directory is malformed: {why}"))
}

/// Bytes per value of a TIFF field type (unknown types are read as the widest).
fn type_size(kind: u16) -> u64 {
    match kind {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        _ => 8,
    }
}

/// Refuses a classic TIFF whose first directory, or any of its entries' values, does not fit
/// inside `bytes`. BigTIFF is refused as unsupported.
pub fn check(bytes: &[u8]) -> Result<(), ImageError> {
    let little = match bytes.get(..2) {
        Some(b"II") => true,
        Some(b"MM") => false,
        _ => return Err(invalid("no byte order mark")),
    };
    let u16_at =
        |at: usize| bytes.get(at..at + 2).map(|b| if little { u16::from_le_bytes([b[0], b[1]]) } else { u16::from_be_bytes([b[0], b[1]]) });
    let u32_at = |at: usize| {
        bytes.get(at..at + 4).map(|b| {
            let b = [b[0], b[1], b[2], b[3]];
            if little {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        })
    };
    match u16_at(2) {
        Some(42) => {}
        Some(43) => return Err(ImageError::Unsupported("BigTIFF files are not supported".into())),
        _ => return Err(invalid("not a TIFF version")),
    }
    let ifd = u32_at(4).ok_or_else(|| invalid("no directory offset"))? as usize;
    let entries = u16_at(ifd).ok_or_else(|| invalid("the first directory lies outside the file"))? as usize;
    if entries == 0 || entries > MAX_ENTRIES || ifd + 2 + entries * 12 > bytes.len() {
        return Err(invalid(&format!("{entries} entries at offset {ifd} do not fit a {}-byte file", bytes.len())));
    }
    for i in 0..entries {
        let at = ifd + 2 + i * 12;
        let (kind, count) = (u16_at(at + 2).unwrap_or(0), u64::from(u32_at(at + 4).unwrap_or(0)));
        let len = count.saturating_mul(type_size(kind));
        if len <= 4 {
            continue; // The value sits in the entry itself.
        }
        let offset = u64::from(u32_at(at + 8).unwrap_or(0));
        if offset.saturating_add(len) > bytes.len() as u64 {
            let tag = u16_at(at).unwrap_or(0);
            return Err(invalid(&format!("tag {tag} claims {count} values ({len} bytes) at offset {offset}, past the end of the file")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian TIFF header and one directory of `entries` (tag, type, count, value).
    fn tiff(entries: &[(u16, u16, u32, u32)]) -> Vec<u8> {
        let mut out = b"II*\0\x08\0\0\0".to_vec();
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, kind, count, value) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&[0; 4]);
        out
    }

    #[test]
    fn a_directory_whose_values_fit_the_file_passes() {
        assert_eq!(check(&tiff(&[(256, 3, 1, 40), (257, 3, 1, 30), (273, 4, 1, 8)])), Ok(()));
    }

    #[test]
    fn a_count_past_the_end_of_the_file_is_refused_before_any_allocation() {
        // One flipped bit in a strip-offsets count: 2^28 LONGs would be a 1 GiB allocation.
        let e = check(&tiff(&[(256, 3, 1, 40), (273, 4, 1 << 28, 8)])).expect_err("a lying count");
        assert_eq!(e.code(), "invalid_image");
        assert!(e.to_string().contains("tag 273"), "{e}");
    }

    #[test]
    fn truncated_or_foreign_headers_are_refused() {
        assert!(check(b"II*\0\xFF\xFF\0\0").is_err(), "directory outside the file");
        assert!(check(b"XX*\0").is_err());
        assert_eq!(check(b"II+\0\x10\0\0\0").expect_err("BigTIFF").code(), "unsupported_media_type");
    }
}
