//! What a session writes out: an `encode` step's bytes, with what the chain keeps of the
//! original (metadata blocks, colour profile) written in.

use super::{Session, StepOutput};
use crate::error::ImageError;
use crate::metadata;
use crate::ops::encode::{self, EncodeParams, OutputFormat};
use crate::planar::Pixels;

impl Session<'_> {
    /// `bytes` encoded by `p`, with the source's metadata and profile that `p` keeps.
    pub(super) fn embed(&self, bytes: Vec<u8>, p: &EncodeParams, dims: (u32, u32)) -> Result<Vec<u8>, ImageError> {
        with_source_data(self.metadata.as_ref(), bytes, p, dims)
    }

    /// The EXIF `p`'s encoder writes itself (AVIF's; `None` for the others, [`Session::embed`]).
    pub(super) fn encoder_exif(&self, p: &EncodeParams) -> Option<Vec<u8>> {
        metadata::encoder_exif(self.metadata.as_ref(), p.format.format(), p.metadata)
    }

    /// Whether the session holds something read from the original that a later job started
    /// from a checkpoint would lack (see [`Session::checkpoint`]).
    pub(super) fn carries_source_data(&self) -> bool {
        self.metadata.as_ref().is_some_and(|m| !m.is_empty())
    }
}

/// `bytes` encoded by `p`, with what `p` keeps of `meta` written in (a free function, so that a
/// `max_bytes` search can call it while it holds the session's pixels).
pub(super) fn with_source_data(
    meta: Option<&metadata::SourceMetadata>,
    bytes: Vec<u8>,
    p: &EncodeParams,
    dims: (u32, u32),
) -> Result<Vec<u8>, ImageError> {
    match meta {
        Some(meta) => metadata::embed(bytes, p.format.format(), dims, meta, (p.metadata, p.icc)),
        None => Ok(bytes),
    }
}

/// `pixels` encoded by `p` (YCbCr planes straight to JPEG when it can), with `exif` when the
/// encoder writes it ([`Session::encoder_exif`]).
pub(super) fn encoded(pixels: Pixels, p: &EncodeParams, exif: Option<&[u8]>) -> Result<StepOutput, ImageError> {
    let (width, height) = pixels.dims();
    let format = p.format.format();
    let (bytes, search) = match pixels {
        // Planes reach here only for what `Step::accepts_planar` allows: baseline JPEG below q90.
        Pixels::Planar(planes) if p.format == OutputFormat::Jpeg => match crate::jpeg::encode::encode_planar(&planes, p.quality) {
            Some(bytes) => (bytes, None),
            None => encode::encode_reporting(planes.into_raster(), p, exif)?,
        },
        pixels => encode::encode_reporting(pixels.into_raster(), p, exif)?,
    };
    Ok(StepOutput { bytes, content_type: format.mime(), width, height, format: Some(format), search })
}
