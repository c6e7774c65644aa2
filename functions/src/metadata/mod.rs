//! `encode`'s `metadata` policy: which of the source's EXIF, XMP and IPTC the output carries.
//!
//! Why extracted at decode: the session drops the encoded original once decoded, so what a
//! `keep` or `copyright` encode needs is read then ([`SourceMetadata::extract`]) and carried,
//! typed and capped, to the encode step; a chain whose encodes all `strip` holds nothing.
//! The source's colour profile travels the same way when the chain says `icc: "keep"`
//! ([`crate::icc`]); otherwise decode converts to sRGB and outputs need none.

mod avif_boxes;
mod embed;
mod extract;
mod iptc;
mod rewrite;
mod xmp;

use crate::error::ImageError;
use crate::format::Format;
use crate::icc::{self, IccPolicy};
use crate::registry::Step;
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

/// Bytes a session holds from the original for `steps`, and holds again while writing them
/// into an output (the rewritten blocks, the compressed or chunked profile): the planner's
/// figure. The profile's own transform tables are in [`icc::ICC_BYTES`].
pub fn held_bytes(steps: &[Step]) -> u64 {
    let blocks = if chain_wants_blocks(steps) { MAX_HELD } else { 0 };
    let profile = if icc::chain_keeps(steps) { icc::MAX_PROFILE_BYTES as u64 } else { 0 };
    // `copyright` parses the XMP packet to find its rights properties.
    let copyright = steps.iter().any(|s| matches!(s, Step::Encode(p) if p.metadata == MetadataPolicy::Copyright));
    2 * (blocks + profile) + if copyright { xmp::PARSE_BYTES } else { 0 }
}

/// Whether an `encode` of `steps` keeps some of the source's metadata blocks.
fn chain_wants_blocks(steps: &[Step]) -> bool {
    steps.iter().any(|s| matches!(s, Step::Encode(p) if !p.metadata.is_strip()))
}

const NAMES: [&str; 3] = ["strip", "keep", "copyright"];
pub(crate) const PARAM: Param<&str> = Param::choice("metadata", &NAMES).default("strip").describe(
    "what of the source's metadata the output carries: strip (nothing), keep (EXIF with Orientation reset to 1, GPS included, XMP, IPTC) or copyright (only the rights fields: EXIF Artist and Copyright, XMP dc:creator, dc:rights and photoshop:Credit, IPTC By-line, Credit and Copyright Notice; no GPS); into jpeg, png, webp and avif: EXIF and XMP in every one, IPTC-IIM in jpeg only (HEIF has no place for it, so avif, like png and webp, gets the IPTC rights through the XMP: copyright's Credit falls back to IPTC Credit); the colour profile follows icc",
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
    /// An RGB ICC profile, for `icc: "keep"` ([`icc::keepable`]).
    pub icc: Option<Vec<u8>>,
}

impl SourceMetadata {
    /// Reads the metadata blocks of an encoded `bytes` of `format` (JPEG, PNG, WebP; none else).
    pub fn extract(bytes: &[u8], format: Format) -> SourceMetadata {
        let found = extract::blocks(bytes, format);
        SourceMetadata {
            exif: found.exif.filter(|b| b.len() <= MAX_EXIF).map(<[u8]>::to_vec),
            xmp: found.xmp.filter(|b| b.len() <= MAX_XMP).map(<[u8]>::to_vec),
            iptc: found.iptc.filter(|b| b.len() <= MAX_IPTC).map(<[u8]>::to_vec),
            icc: None,
        }
    }

    /// What a session over `steps` holds from the original `bytes`: the blocks when an `encode`
    /// keeps some, the profile when the chain keeps it; `None` when it needs nothing.
    pub fn for_chain(bytes: &[u8], format: Format, steps: &[Step]) -> Option<SourceMetadata> {
        let (blocks, profile) = (chain_wants_blocks(steps), icc::chain_keeps(steps));
        if !blocks && !profile {
            return None;
        }
        let mut held = if blocks { SourceMetadata::extract(bytes, format) } else { SourceMetadata::default() };
        held.icc = if profile { icc::keepable(bytes, format) } else { None };
        Some(held)
    }

    /// What `policy` lets through: `keep` has the EXIF with Orientation 1, `copyright` only the
    /// rights fields (a minimal EXIF of Artist and Copyright, [`SourceMetadata::rights_blocks`]),
    /// `strip` nothing.
    pub fn for_policy(&self, policy: MetadataPolicy) -> SourceMetadata {
        let exif = self.exif.as_deref().and_then(|tiff| rewrite::exif(tiff, policy));
        match policy {
            MetadataPolicy::Strip => SourceMetadata::default(),
            MetadataPolicy::Keep => SourceMetadata { exif, xmp: self.xmp.clone(), iptc: self.iptc.clone(), icc: None },
            MetadataPolicy::Copyright => {
                let (xmp, iptc) = self.rights_blocks();
                SourceMetadata { exif, xmp, iptc, icc: None }
            }
        }
    }

    /// `copyright`'s XMP and IPTC: minimal blocks with only the rights fields (XMP creator,
    /// rights and credit; IPTC by-line, credit and copyright notice). The XMP takes the credit
    /// from IPTC when it has none, since PNG and WebP outputs carry no IPTC.
    fn rights_blocks(&self) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        let datasets = self.iptc.as_deref().map(iptc::datasets).unwrap_or_default();
        let mut rights = self.xmp.as_deref().map(xmp::rights).unwrap_or_default();
        if rights.credit.is_none() {
            rights.credit = iptc::text(&datasets, iptc::CREDIT);
        }
        let packet = (!rights.is_empty()).then(|| xmp::packet(&rights));
        (packet, iptc::rights_only(&datasets))
    }

    pub fn is_empty(&self) -> bool {
        self.exif.is_none() && self.xmp.is_none() && self.iptc.is_none() && self.icc.is_none()
    }
}

/// The EXIF `policy` lets through for an output of `format` whose container the encoder itself
/// writes (AVIF: ravif takes it as the Exif item, [`crate::ops::avif::encode`]); `None` for the
/// other formats, which get it from [`embed`]. AVIF's XMP and profile are added by [`embed`]
/// (its writer has no place for them); IPTC-IIM has none in HEIF, so AVIF gets the IPTC rights
/// through the XMP only. The copy is at most [`MAX_EXIF`], and the encoder's container writer
/// makes one more: both within the twice [`MAX_HELD`] that [`held_bytes`] plans.
pub fn encoder_exif(source: Option<&SourceMetadata>, format: Format, policy: MetadataPolicy) -> Option<Vec<u8>> {
    let tiff = source?.exif.as_deref().filter(|_| format == Format::Avif)?;
    rewrite::exif(tiff, policy)
}

/// `encoded` (an output of `format`, `width`×`height`) with `meta` written into it, by `policy`,
/// and the profile when `icc` keeps it (not into a gray output, which an RGB profile cannot
/// describe). Formats without a place for them (GIF) come back unchanged.
///
/// AVIF's EXIF is already in (the encoder wrote it, [`encoder_exif`]); its XMP and profile are
/// written into the encoder's boxes ([`avif_boxes`]). That rewrite fails only if the encoder's
/// container is not the one it knows (a ravif upgrade would be the cause): the step then fails,
/// as an encoder error does, rather than silently hand out a file without the rights fields or
/// the profile the chain asked for.
pub fn embed(
    encoded: Vec<u8>,
    format: Format,
    dims: (u32, u32),
    source: &SourceMetadata,
    (policy, icc): (MetadataPolicy, IccPolicy),
) -> Result<Vec<u8>, ImageError> {
    let mut meta = source.for_policy(policy);
    if icc == IccPolicy::Keep && !embed::is_gray(&encoded, format) {
        meta.icc = source.icc.clone();
    }
    if meta.is_empty() {
        return Ok(encoded);
    }
    Ok(match format {
        Format::Jpeg => embed::jpeg(encoded, &meta),
        Format::Png => embed::png(encoded, &meta),
        Format::Webp => embed::webp(encoded, dims, &meta),
        Format::Avif if meta.icc.is_some() || meta.xmp.is_some() => avif_boxes::add(&encoded, meta.icc.as_deref(), meta.xmp.as_deref())
            .map_err(|e| ImageError::Invalid(format!("cannot write the avif's metadata: {e}")))?,
        _ => encoded,
    })
}

#[cfg(test)]
mod avif_boxes_tests;
#[cfg(test)]
mod avif_tests;
#[cfg(test)]
mod rights_tests;
#[cfg(test)]
mod tests;
