//! `encode`'s `metadata` policy: which of the source's EXIF, XMP and IPTC the output carries.
//!
//! Why extracted at decode: the session drops the encoded original once decoded, so what a
//! `keep` or `copyright` encode needs is read then ([`SourceMetadata::extract`]) and carried,
//! typed and capped, to the encode step; a chain whose encodes all `strip` holds nothing.
//! Colour profiles are not copied: decode converts to sRGB ([`crate::icc`]), so outputs need none.

mod embed;
mod extract;
mod rewrite;

use crate::format::Format;
use crate::spec::Param;
use serde::{Deserialize, Serialize};

/// Largest EXIF kept (one JPEG APP1 segment holds at most 65,533 bytes with its header).
pub const MAX_EXIF: usize = 65_527;
/// Largest XMP kept (a JPEG output only carries XMP that fits one APP1 segment).
pub const MAX_XMP: usize = 256 << 10;
/// Largest IPTC (Photoshop APP13 payload) kept.
pub const MAX_IPTC: usize = 65_519;
/// What a session holds at most for a `keep` or `copyright` encode (the planner's figure).
pub const MAX_HELD: u64 = (MAX_EXIF + MAX_XMP + MAX_IPTC) as u64;

const NAMES: [&str; 3] = ["strip", "keep", "copyright"];
pub(crate) const PARAM: Param<&str> = Param::choice("metadata", &NAMES).default("strip").describe(
    "what of the source's metadata the output carries: strip (nothing), keep (EXIF with Orientation reset to 1, GPS included, XMP, IPTC) or copyright (a minimal EXIF with only Artist and Copyright); jpeg, png and webp; the colour profile is never copied (outputs are sRGB)",
);

/// `encode`'s `metadata` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetadataPolicy {
    #[default]
    Strip,
    Keep,
    Copyright,
}

impl MetadataPolicy {
    pub fn parse(name: &str) -> Self {
        match name {
            "keep" => MetadataPolicy::Keep,
            "copyright" => MetadataPolicy::Copyright,
            _ => MetadataPolicy::Strip,
        }
    }

    pub fn is_strip(&self) -> bool {
        *self == MetadataPolicy::Strip
    }
}

/// The source's metadata blocks, raw and capped (a larger block is dropped, not cut).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMetadata {
    /// A TIFF structure ("II*\0" or "MM\0*"), without JPEG's "Exif\0\0" header.
    pub exif: Option<Vec<u8>>,
    /// An XMP packet (XML).
    pub xmp: Option<Vec<u8>>,
    /// A Photoshop image-resource block (APP13 payload after "Photoshop 3.0\0").
    pub iptc: Option<Vec<u8>>,
}

impl SourceMetadata {
    /// Reads the metadata blocks of an encoded `bytes` of `format` (JPEG, PNG, WebP; none else).
    pub fn extract(bytes: &[u8], format: Format) -> SourceMetadata {
        let found = extract::blocks(bytes, format);
        SourceMetadata {
            exif: found.exif.filter(|b| b.len() <= MAX_EXIF),
            xmp: found.xmp.filter(|b| b.len() <= MAX_XMP),
            iptc: found.iptc.filter(|b| b.len() <= MAX_IPTC),
        }
    }

    /// What `policy` lets through: `keep` has the EXIF with Orientation 1, `copyright` only a
    /// minimal EXIF of Artist and Copyright, `strip` nothing.
    pub fn for_policy(&self, policy: MetadataPolicy) -> SourceMetadata {
        let exif = self.exif.as_deref().and_then(|tiff| rewrite::exif(tiff, policy));
        match policy {
            MetadataPolicy::Strip => SourceMetadata::default(),
            MetadataPolicy::Keep => SourceMetadata { exif, xmp: self.xmp.clone(), iptc: self.iptc.clone() },
            MetadataPolicy::Copyright => SourceMetadata { exif, xmp: None, iptc: None },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.exif.is_none() && self.xmp.is_none() && self.iptc.is_none()
    }
}

/// `encoded` (an output of `format`, `width`×`height`) with `meta` written into it, by `policy`.
/// Formats without a place for them (GIF) come back unchanged.
pub fn embed(encoded: Vec<u8>, format: Format, dims: (u32, u32), source: &SourceMetadata, policy: MetadataPolicy) -> Vec<u8> {
    let meta = source.for_policy(policy);
    if meta.is_empty() {
        return encoded;
    }
    match format {
        Format::Jpeg => embed::jpeg(encoded, &meta),
        Format::Png => embed::png(encoded, &meta),
        Format::Webp => embed::webp(encoded, dims, &meta),
        _ => encoded,
    }
}

#[cfg(test)]
mod tests;
