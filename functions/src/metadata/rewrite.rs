//! EXIF rewriting for the `metadata` policies, with kamadak-exif's reader and writer.
//!
//! Only the primary image's directory (with its EXIF and GPS sub-directories) is written back:
//! the thumbnail directory shows the unrotated, uncropped source, so it is dropped.

use super::MetadataPolicy;
use ::exif::experimental::Writer;
use ::exif::{Field, In, Reader, Tag, Value};
use std::io::Cursor;

/// The TIFF-structured EXIF `tiff` rewritten for `policy`; `None` when nothing is left (or the
/// source EXIF does not parse: it is dropped rather than copied blind).
pub fn exif(tiff: &[u8], policy: MetadataPolicy) -> Option<Vec<u8>> {
    let parsed = Reader::new().read_raw(tiff.to_vec()).ok()?;
    let orientation = Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![1]) };
    let kept: Vec<&Field> = parsed
        .fields()
        .filter(|f| f.ifd_num == In::PRIMARY)
        .filter(|f| match policy {
            MetadataPolicy::Keep => f.tag != Tag::Orientation,
            MetadataPolicy::Copyright => f.tag == Tag::Artist || f.tag == Tag::Copyright,
            MetadataPolicy::Strip => false,
        })
        .collect();
    if kept.is_empty() {
        return None;
    }
    let mut writer = Writer::new();
    for field in kept {
        writer.push_field(field);
    }
    // The pixels are already upright: a viewer must not turn them again.
    if policy == MetadataPolicy::Keep {
        writer.push_field(&orientation);
    }
    let mut out = Cursor::new(Vec::new());
    writer.write(&mut out, parsed.little_endian()).ok()?;
    Some(out.into_inner()).filter(|b| b.len() <= super::MAX_EXIF)
}
