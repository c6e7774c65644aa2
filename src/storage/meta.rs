//! The custom metadata R2 keeps beside our objects: an original's image record (so a `head`
//! answers `GET /images/{id}` without reading any pixels) and a stored result's output (so an
//! identical request reuses it).

use super::{StorageError, StorageResult};
use crate::ids::ImageId;
use crate::task::model::Output;
use functions::ops::region::Region;
use functions::placeholder::Placeholder;
use functions::{Format, ImageInfo};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use worker::{Bucket, Object};

/// Custom metadata of a stored result: what a later identical request needs to reuse it.
pub const WIDTH_META: &str = "width";
pub const HEIGHT_META: &str = "height";
/// The box a result's chain kept (`trim`, `smart_crop`), as `x,y,width,height`.
pub const BOX_META: &str = "box";

/// [`BOX_META`]'s text for `region`.
pub fn box_meta(r: &Region) -> String {
    format!("{},{},{},{}", r.x, r.y, r.width, r.height)
}

/// Reads [`BOX_META`]'s text; `None` when absent or malformed.
fn parse_box(text: &str) -> Option<Region> {
    let mut parts = text.split(',').map(|p| p.parse::<u32>().ok());
    let (x, y, width, height) = (parts.next()??, parts.next()??, parts.next()??, parts.next()??);
    Some(Region { x, y, width, height })
}

/// The contract's image object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub id: ImageId,
    pub name: String,
    pub content_type: String,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub sha256: String,
    pub created_at: String,
    /// Kept in R2 metadata for the memory planner; not part of the public image object.
    #[serde(skip)]
    pub progressive: bool,
    /// The decoder holds about twice the raster: 16-bit samples or an animated WebP (planner
    /// only, like `progressive`); absent on older records = false.
    #[serde(skip)]
    pub wide: bool,
    /// Set by the image's analysis job after the upload ([`crate::analysis`]); `null` until then.
    pub placeholder: Option<Placeholder>,
}

impl ImageRecord {
    pub fn info(&self) -> ImageInfo {
        ImageInfo { format: self.format, width: self.width, height: self.height, progressive: self.progressive, wide: self.wide }
    }

    pub(super) fn to_metadata(&self) -> HashMap<String, String> {
        let placeholder = self.placeholder.as_ref().and_then(|p| serde_json::to_string(p).ok());
        let mut meta = HashMap::from([
            ("name".into(), self.name.clone()),
            ("format".into(), self.format.name().into()),
            ("width".into(), self.width.to_string()),
            ("height".into(), self.height.to_string()),
            ("sha256".into(), self.sha256.clone()),
            ("created_at".into(), self.created_at.clone()),
            ("progressive".into(), self.progressive.to_string()),
            ("wide".into(), self.wide.to_string()),
        ]);
        meta.extend(placeholder.map(|p| ("placeholder".to_string(), p)));
        meta
    }

    pub(super) fn from_object(id: ImageId, obj: &Object) -> StorageResult<ImageRecord> {
        let meta = obj.custom_metadata()?;
        let field = |k: &str| meta.get(k).cloned().ok_or_else(|| StorageError::Platform(format!("{id}: metadata lacks {k}")));
        let number = |k: &str| field(k)?.parse::<u32>().map_err(|e| StorageError::Platform(format!("{id}: bad {k}: {e}")));
        let format = Format::from_name(&field("format")?).ok_or_else(|| StorageError::Platform(format!("{id}: bad format")))?;
        Ok(ImageRecord {
            name: field("name")?,
            content_type: format.mime().into(),
            format,
            width: number("width")?,
            height: number("height")?,
            bytes: obj.size(),
            sha256: field("sha256")?,
            created_at: field("created_at")?,
            progressive: meta.get("progressive").is_some_and(|p| p == "true"),
            wide: meta.get("wide").is_some_and(|p| p == "true"),
            // A record that cannot be read back keeps none rather than failing the image.
            placeholder: meta.get("placeholder").and_then(|p| serde_json::from_str(p).ok()),
            id,
        })
    }
}

/// The finished step's output stored under `key`, if any: a result (reused by an identical
/// request, or by a retry whose earlier attempt stored it but could not report it).
pub async fn stored_output(bucket: &Bucket, key: &str) -> worker::Result<Option<Output>> {
    let Some(obj) = bucket.head(key.to_string()).await? else { return Ok(None) };
    let meta = obj.custom_metadata().unwrap_or_default();
    let dim = |name: &str| meta.get(name).and_then(|v| v.parse::<u32>().ok());
    let (Some(width), Some(height), Some(content_type)) = (dim(WIDTH_META), dim(HEIGHT_META), obj.http_metadata().content_type) else {
        // Not written by a finished step (or by an older version): run the chain instead.
        return Ok(None);
    };
    let region = meta.get(BOX_META).and_then(|b| parse_box(b));
    Ok(Some(Output { key: key.to_string(), content_type, width, height, bytes: obj.size(), region }))
}
